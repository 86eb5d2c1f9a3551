import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { WebhookParams } from '../../schemas/webhooks.js';
import { type App, actorOf } from '../../types.js';

export default function deleteWebhook(app: App) {
  app.delete('/webhooks/:webhook_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Delete Webhook',
      description: 'Its waiting deliveries and their history go with it.',
      params: WebhookParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errors(401, 403, 404, 422) },
    },
    handler: async (request, reply) => {
      await app.services.webhooks.delete(actorOf(request), request.params.webhook_id);
      return reply.code(204).send(null);
    },
  });
}
