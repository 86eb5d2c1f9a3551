import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { IdentitySchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';
import { IdentityParams } from './update-identity.js';

const body = Type.Object({
  customer_id: Uuid({ description: 'The customer it goes to' }),
  keep_verification: Type.Optional(
    Type.Boolean({
      default: false,
      description: 'Keep verified, verified_via and role_override (else it arrives unverified, without a role)',
    }),
  ),
});

export default function moveIdentity(app: App) {
  app.post('/customers/:customer_id/identities/:identity_id/move', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Move Customer Identity',
      description:
        "Moves the identity (same id, same external id and aliases) to another customer. Unless keep_verification is true, it arrives unverified (verified_via null) with role_override null: the proof was given by the other customer's person. Its live claim code is void. 404 for an unknown target; 409 when the target is the customer it is on.",
      params: IdentityParams,
      body,
      response: { 200: IdentitySchema, ...errors(401, 403, 404, 409, 410, 422) },
    },
    handler: (request) =>
      app.services.identities.move(
        actorOf(request),
        request.params.customer_id,
        request.params.identity_id,
        request.body,
      ),
  });
}
