import { Type } from '@sinclair/typebox';
import { VERIFIED_VIA, type VerifiedVia } from '../../features/identities/identities.js';
import { Metadata, Nullable, Timestamp, Uuid } from './common.js';

/** How a link was proven: null while unverified. */
function VerifiedViaField() {
  return Type.Unsafe<VerifiedVia | null>({
    type: ['string', 'null'],
    enum: [...VERIFIED_VIA, null],
    description:
      'How the link was proven: operator (an admin said so), claim_code (the person redeemed a code from that account), platform (the chat platform vouched for it), link_request (an operator redeemed the link code the account was given), linked_identity (the person linked it from a verified account of theirs); null while unverified',
  });
}

export const CustomerSchema = Type.Object(
  {
    id: Uuid(),
    email: Type.String({ format: 'email' }),
    name: Nullable(Type.String()),
    metadata: Metadata(),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'Customer' },
);

export const IdentitySchema = Type.Object(
  {
    id: Uuid(),
    customer_id: Uuid(),
    channel: Type.String({ examples: ['telegram'] }),
    external_id: Type.String({ examples: ['12345'] }),
    instance_id: Nullable(Uuid()),
    display_name: Nullable(Type.String()),
    role_override: Nullable(Type.String()),
    verified: Type.Boolean(),
    verified_at: Nullable(Timestamp()),
    verified_via: VerifiedViaField(),
    aliases: Type.Array(Type.String(), {
      description: 'Other external ids of the same account on this channel, normalized like external_id',
      examples: [['US.13491208655302741918']],
    }),
    metadata: Metadata(),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'Identity' },
);

export const LookupResultSchema = Type.Object(
  {
    channel: Type.String(),
    customer_email: Type.String(),
    customer_id: Uuid(),
    display_name: Nullable(Type.String()),
    external_id: Type.String(),
    identity_id: Uuid(),
    role_override: Nullable(Type.String()),
    verified: Type.Boolean(),
    verified_via: VerifiedViaField(),
  },
  { $id: 'LookupResult' },
);

export const ClaimCodeSchema = Type.Object(
  {
    code: Type.String({ examples: ['K7MQ2X'] }),
    expires_in_seconds: Type.Integer({ examples: [900] }),
    identity_id: Uuid(),
    instructions: Type.String({ examples: ['Send /claim K7MQ2X to the bot on telegram within 15 minutes.'] }),
  },
  { $id: 'ClaimCode' },
);

export const ScopeSchema = Type.Union([Type.Literal('admin'), Type.Literal('runtime')]);

export const ApiKeySchema = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    scope: ScopeSchema,
    prefix: Type.String({ examples: ['idsk_Ab3dE9xQ'] }),
    created_at: Timestamp(),
    last_used_at: Nullable(Timestamp()),
  },
  { $id: 'ApiKey' },
);

export const NewApiKeySchema = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    scope: ScopeSchema,
    prefix: Type.String(),
    created_at: Timestamp(),
    key: Type.String({ description: 'The key itself; shown this once and never again' }),
  },
  { $id: 'NewApiKey' },
);

/** Input fields shared by several routes: what a valid identity is belongs to the features. */
export { ChannelField, ExternalIdField } from '../../features/identities/identity-fields.js';
