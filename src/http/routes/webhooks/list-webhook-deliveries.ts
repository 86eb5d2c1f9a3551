import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { DeliveryAttemptSchema, WebhookParams } from '../../schemas/webhooks.js';
import type { App } from '../../types.js';

const querystring = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  event_id: Type.Optional(Uuid({ description: 'Only the attempts of this event' })),
});

export default function listWebhookDeliveries(app: App) {
  app.get('/webhooks/:webhook_id/deliveries', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'List Webhook Deliveries',
      description:
        'Recent attempts to deliver events to this subscription, newest first (kept for WEBHOOK_RETENTION_HOURS).',
      params: WebhookParams,
      querystring,
      response: { 200: Type.Array(DeliveryAttemptSchema), ...errors(401, 403, 404, 422) },
    },
    handler: (request) => app.services.webhooks.deliveries(request.params.webhook_id, request.query),
  });
}
