import { Type } from '@sinclair/typebox';
import { customerInputFields } from '../../features/customers/customer-fields.js';
import { RoleOverrideField } from '../../features/identities/identity-fields.js';
import { LINK_REQUEST_STATUSES, type LinkRequestStatus } from '../../features/link-requests/link-requests.js';
import { Nullable, Timestamp, Uuid } from './common.js';
import { IdentitySchema } from './resources.js';

export const LinkRequestStatusField = () =>
  Type.Unsafe<LinkRequestStatus>({
    type: 'string',
    enum: [...LINK_REQUEST_STATUSES],
    description: 'pending until decided; expired once expires_at has passed undecided',
  });

const linkRequestFields = {
  id: Uuid(),
  channel: Type.String({ examples: ['telegram'] }),
  external_id: Type.String({ examples: ['12345'] }),
  instance_id: Nullable(Uuid()),
  display_name: Nullable(Type.String()),
  status: LinkRequestStatusField(),
  created_at: Timestamp(),
  expires_at: Timestamp(),
  decided_at: Nullable(Timestamp()),
  customer_id: Nullable(Uuid({ description: 'The customer the account was linked to; null until approved' })),
  identity_id: Nullable(Uuid({ description: 'The identity the approval made; null until approved' })),
};

export const LinkRequestSchema = Type.Object(linkRequestFields, { $id: 'LinkRequest' });

export const IssuedLinkRequestSchema = Type.Object(
  {
    ...linkRequestFields,
    code: Type.String({
      examples: ['K7MQ2XPA'],
      description: '8 characters; shown only in this answer. Input ignores case, spaces and hyphens',
    }),
    instructions: Type.String({
      examples: [
        'To link this telegram account, read the code K7MQ2XPA to the team you are talking to, or send /link K7MQ2XPA from an account of yours that is already verified. The code expires in 1 hour.',
      ],
    }),
  },
  { $id: 'IssuedLinkRequest' },
);

export const LinkRequestApprovalSchema = Type.Object(
  { link_request: LinkRequestSchema, identity: IdentitySchema },
  { $id: 'LinkRequestApproval' },
);

export const LinkRequestParams = Type.Object({ link_request_id: Uuid() });

/** Who the account goes to: exactly one of customer_id and customer (checked by the service). */
export const decisionFields = () => ({
  customer_id: Type.Optional(Uuid({ description: 'An existing customer; or give `customer` instead' })),
  customer: Type.Optional(
    Type.Object(customerInputFields(), { description: 'A new customer to make for the account; or give customer_id' }),
  ),
  role_override: Type.Optional(RoleOverrideField()),
});
