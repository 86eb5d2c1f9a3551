import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import type { App } from '../../types.js';

const params = Type.Object({ webhook_id: Uuid(), event_id: Uuid() });

export default function retryWebhookDelivery(app: App) {
  app.post('/webhooks/:webhook_id/deliveries/:event_id/retry', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Webhooks'],
      summary: 'Send Event Again',
      description:
        'Sends one event to this subscription again, with the same id and body: a delivery still waiting for its retry is tried at once; a delivered or failed one is queued anew behind the pending ones.',
      params,
      response: {
        202: Type.Object({
          event_id: Uuid(),
          type: Type.String(),
          status: Type.Literal('pending'),
        }),
        ...errors(401, 403, 404, 422),
      },
    },
    handler: async (request, reply) =>
      reply.code(202).send(await app.services.webhooks.retry(request.params.webhook_id, request.params.event_id)),
  });
}
