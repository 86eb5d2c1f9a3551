import { errors } from '../../schemas/common.js';
import { WebhookParams, WebhookSchema } from '../../schemas/webhooks.js';
import type { App } from '../../types.js';

export default function getWebhook(app: App) {
  app.get('/webhooks/:webhook_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Get Webhook',
      params: WebhookParams,
      response: { 200: WebhookSchema, ...errors(401, 403, 404, 422) },
    },
    handler: (request) => app.services.webhooks.get(request.params.webhook_id),
  });
}
