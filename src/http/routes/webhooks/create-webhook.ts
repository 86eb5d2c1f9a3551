import { Type } from '@sinclair/typebox';
import { errors, Nullable } from '../../schemas/common.js';
import { EventTypes, WebhookUrl, WebhookWithSecretSchema } from '../../schemas/webhooks.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  url: WebhookUrl(),
  events: EventTypes(),
  description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  enabled: Type.Optional(Type.Boolean()),
});

export default function createWebhook(app: App) {
  app.post('/webhooks', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Create Webhook',
      description:
        'Subscribes a URL to events. The response carries the signing secret; it is shown this once (and on rotation).',
      body,
      response: { 201: WebhookWithSecretSchema, ...errors(401, 403, 422) },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await app.services.webhooks.create(actorOf(request), request.body)),
  });
}
