import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { ApiKeySchema, NewApiKeySchema, ScopeSchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';

// Three small admin endpoints, kept together.

export default async function apiKeyRoutes(app: App) {
  app.post('/api-keys', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API keys'],
      summary: 'Create API Key',
      description: 'The response carries the key itself; it is shown this once and stored only as a hash.',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), scope: ScopeSchema }),
      response: { 201: NewApiKeySchema, ...errors(401, 403, 422) },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await app.services.apiKeys.create(actorOf(request), request.body)),
  });

  app.get('/api-keys', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API keys'],
      summary: 'List API Keys',
      description: 'Active keys; last_used_at is refreshed at most once a minute.',
      response: { 200: Type.Array(ApiKeySchema), ...errors(401, 403) },
    },
    handler: () => app.services.apiKeys.list(),
  });

  app.delete('/api-keys/:key_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API keys'],
      summary: 'Revoke API Key',
      description: 'The key stops working at once.',
      params: Type.Object({ key_id: Uuid() }),
      response: { 204: Type.Null({ description: 'Revoked' }), ...errors(401, 403, 404, 422) },
    },
    handler: async (request, reply) => {
      await app.services.apiKeys.revoke(actorOf(request), request.params.key_id);
      return reply.code(204).send(null);
    },
  });
}
