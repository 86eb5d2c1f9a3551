import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { type App, actorOf } from '../../types.js';

const params = Type.Object({
  customer_id: Uuid(),
  identity_id: Uuid(),
  external_id: Type.String({ minLength: 1, maxLength: 255, description: 'The alias, URL-encoded' }),
});

export default function removeAlias(app: App) {
  app.delete('/customers/:customer_id/identities/:identity_id/aliases/:external_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Remove Identity Alias',
      description: 'The alias (normalized like external_id) no longer finds this identity.',
      params,
      response: { 204: Type.Null({ description: 'Removed' }), ...errors(401, 403, 404, 410, 422) },
    },
    handler: async (request, reply) => {
      await app.services.identities.removeAlias(
        actorOf(request),
        request.params.customer_id,
        request.params.identity_id,
        request.params.external_id,
      );
      return reply.code(204).send(null);
    },
  });
}
