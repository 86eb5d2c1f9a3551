import { Type } from '@sinclair/typebox';
import { errors, Nullable } from '../../schemas/common.js';
import { EventTypes, WebhookParams, WebhookSchema, WebhookUrl } from '../../schemas/webhooks.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  url: Type.Optional(WebhookUrl()),
  events: Type.Optional(EventTypes()),
  description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  enabled: Type.Optional(Type.Boolean()),
});

export default function updateWebhook(app: App) {
  app.patch('/webhooks/:webhook_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Update Webhook',
      description:
        'Fields left out are kept; `{}` changes nothing. A disabled subscription gets no new events, and its waiting deliveries wait until it is enabled again.',
      params: WebhookParams,
      body,
      response: { 200: WebhookSchema, ...errors(401, 403, 404, 422) },
    },
    handler: (request) => app.services.webhooks.update(actorOf(request), request.params.webhook_id, request.body),
  });
}
