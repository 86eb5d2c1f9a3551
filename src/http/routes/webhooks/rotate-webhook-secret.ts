import { errors } from '../../schemas/common.js';
import { WebhookParams, WebhookWithSecretSchema } from '../../schemas/webhooks.js';
import { type App, actorOf } from '../../types.js';

export default function rotateWebhookSecret(app: App) {
  app.post('/webhooks/:webhook_id/rotate-secret', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Rotate Webhook Secret',
      description: 'A new signing secret, shown this once; every attempt from now on is signed with it alone.',
      params: WebhookParams,
      response: { 200: WebhookWithSecretSchema, ...errors(401, 403, 404, 422) },
    },
    handler: (request) => app.services.webhooks.rotateSecret(actorOf(request), request.params.webhook_id),
  });
}
