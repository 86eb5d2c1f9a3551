import { Type } from '@sinclair/typebox';
import { errors, Nullable, Uuid } from '../../schemas/common.js';
import { ChannelField, ExternalIdField, IdentitySchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  channel: ChannelField(),
  external_id: ExternalIdField(),
  code: Type.String({ minLength: 1, maxLength: 32, description: 'Case-insensitive; spaces and hyphens are ignored' }),
  instance_id: Type.Optional(Nullable(Uuid())),
});

export default function redeemClaim(app: App) {
  app.post('/customers/identities/claim', {
    config: { auth: 'runtime', rateLimitGroup: 'claim' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Redeem Identity Claim Code',
      description:
        'Called by the runtime when a person sends `/claim CODE`. On success the identity is verified with role_override "owner". Every failure is the same 400.',
      body,
      response: { 200: IdentitySchema, ...errors(400, 401, 403, 422, 429) },
    },
    handler: (request) => app.services.claims.redeem(actorOf(request), request.body),
  });
}
