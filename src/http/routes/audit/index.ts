import { Type } from '@sinclair/typebox';
import { errors, Nullable, Timestamp, Uuid } from '../../schemas/common.js';
import type { App } from '../../types.js';

const AuditEventSchema = Type.Object(
  {
    id: Uuid(),
    at: Timestamp(),
    actor_key_id: Nullable(Uuid()),
    actor: Type.String({
      description: "The key's name, or cli / telegram-webhook / slack-webhook / whatsapp-webhook / discord-webhook",
    }),
    action: Type.String({ examples: ['identity.created', 'claim.succeeded'] }),
    customer_id: Nullable(Uuid()),
    identity_id: Nullable(Uuid()),
    before: Type.Unknown(),
    after: Type.Unknown(),
    source: Type.Optional(
      Type.String({ description: "'platform' when a chat platform's signed message made the change" }),
    ),
  },
  { $id: 'AuditEvent' },
);

/** `identity.verified`, `claim_code.issued`, or a family with a star: `identity.*`. */
const ACTION_FILTER = '^[a-z][a-z0-9_]*\\.([a-z][a-z0-9_.]*|\\*)$';

export default async function auditRoutes(app: App) {
  app.get('/audit', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Audit'],
      summary: 'List Audit Events',
      description:
        'Every change, newest first, with the acting key and what changed (never secrets). Filters combine: ' +
        'a customer, an identity, an action or family of actions, an actor.',
      querystring: Type.Object({
        customer_id: Type.Optional(Uuid()),
        identity_id: Type.Optional(Uuid()),
        action: Type.Optional(
          Type.String({
            pattern: ACTION_FILTER,
            maxLength: 64,
            description: 'One action (`identity.moved`), or a family of them (`identity.*`)',
            examples: ['identity.verified', 'customer.*'],
          }),
        ),
        actor: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 100,
            description:
              "Who acted: an API key's name, or cli / telegram-webhook / slack-webhook / whatsapp-webhook / discord-webhook",
            examples: ['bootstrap', 'telegram'],
          }),
        ),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        cursor: Type.Optional(Type.String({ maxLength: 512 })),
      }),
      response: {
        200: Type.Object({ items: Type.Array(AuditEventSchema), next_cursor: Nullable(Type.String()) }),
        ...errors(401, 403, 422),
      },
    },
    handler: (request) => app.services.audit.list(request.query),
  });
}
