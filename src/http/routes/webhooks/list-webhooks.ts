import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { WebhookSchema } from '../../schemas/webhooks.js';
import type { App } from '../../types.js';

export default function listWebhooks(app: App) {
  app.get('/webhooks', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'List Webhooks',
      description: 'Every subscription, oldest first; secrets are never listed.',
      response: { 200: Type.Array(WebhookSchema), ...errors(401, 403) },
    },
    handler: () => app.services.webhooks.list(),
  });
}
