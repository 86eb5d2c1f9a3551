import { Type } from '@sinclair/typebox';
import { errors, Timestamp, Uuid } from '../../schemas/common.js';
import { type App, actorOf } from '../../types.js';
import { CustomerParams } from '../customers/get-customer.js';

const body = Type.Object({
  suppress: Type.Boolean({
    default: false,
    description: 'Keep keyed hashes of its email and accounts, so that they cannot come back until lifted',
  }),
  reason: Type.Optional(
    Type.String({ maxLength: 500, description: 'Why, for the audit trail (no personal data, please)' }),
  ),
});

const ErasureSchema = Type.Object({
  customer_id: Uuid(),
  erased_at: Timestamp(),
  identity_ids: Type.Array(Uuid(), { description: 'The identities erased with it' }),
  suppressed: Type.Integer({ description: 'How many values (emails, accounts) were suppressed' }),
});

export default function eraseCustomer(app: App) {
  app.post('/customers/:customer_id/erase', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Privacy'],
      summary: 'Erase Customer',
      description:
        'Forgets the person, in one transaction and for good: the customer, the customers merged into it, their identities, aliases, claim codes, link requests and every merge record involving them are deleted (a merged-away id becomes a 404); audit entries about them keep action, time, actor and ids, every other value becomes "[erased]"; their undelivered webhook events are dropped and delivered ones redacted alike. Sends `customer.erased` (ids only) and records it in the audit trail (actor, reason, counts). Cannot be undone, not even a merge.',
      params: CustomerParams,
      body,
      response: { 200: ErasureSchema, ...errors(401, 403, 404, 410, 422) },
    },
    handler: (request) =>
      app.services.erasure.erase(actorOf(request), request.params.customer_id, {
        suppress: request.body.suppress,
        reason: request.body.reason,
      }),
  });
}
