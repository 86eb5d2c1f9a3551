import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { type App, actorOf } from '../../types.js';
import { IdentityParams } from './update-identity.js';

export default function deleteIdentity(app: App) {
  app.delete('/customers/:customer_id/identities/:identity_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Delete Customer Identity',
      description: 'Unlink an external identity from a customer.',
      params: IdentityParams,
      response: { 204: Type.Null({ description: 'Unlinked' }), ...errors(401, 403, 404, 422) },
    },
    handler: async (request, reply) => {
      await app.services.identities.delete(actorOf(request), request.params.customer_id, request.params.identity_id);
      return reply.code(204).send(null);
    },
  });
}
