import { errors } from '../../schemas/common.js';
import { ClaimCodeSchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';
import { IdentityParams } from './update-identity.js';

export default function generateClaimCode(app: App) {
  app.post('/customers/:customer_id/identities/:identity_id/claim-code', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Generate Identity Claim Code',
      description:
        'Generate a one-time claim code for an unverified identity. A new code voids the previous one. The person sends `/claim CODE` from that identity to prove it is theirs.',
      params: IdentityParams,
      response: { 201: ClaimCodeSchema, ...errors(401, 403, 404, 409, 422) },
    },
    handler: async (request, reply) => {
      const code = await app.services.claims.generate(
        actorOf(request),
        request.params.customer_id,
        request.params.identity_id,
      );
      return reply.code(201).send(code);
    },
  });
}
