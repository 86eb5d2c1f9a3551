import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '../../features/webhooks/webhooks.js';
import { Nullable, Timestamp, Uuid } from './common.js';

export const WebhookUrl = () =>
  Type.String({
    minLength: 1,
    maxLength: 2048,
    description: 'http(s); not a loopback, private or link-local address unless WEBHOOK_ALLOW_PRIVATE_URLS=true',
    examples: ['https://crm.example.com/hooks/identity'],
  });

export const EventTypes = () =>
  Type.Array(Type.String({ enum: [...EVENT_TYPES, '*'] }), {
    minItems: 1,
    maxItems: EVENT_TYPES.length + 1,
    description: `Event types to receive, or ["*"] for every one: ${EVENT_TYPES.join(', ')}`,
    examples: [['identity.verified', 'claim.redeemed'], ['*']],
  });

export const WebhookSchema = Type.Object(
  {
    id: Uuid(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    description: Nullable(Type.String()),
    enabled: Type.Boolean(),
    created_at: Timestamp(),
  },
  { $id: 'Webhook' },
);

export const WebhookWithSecretSchema = Type.Object(
  {
    ...WebhookSchema.properties,
    secret: Type.String({
      description: 'whsec_ and the base64 of the HMAC key; shown only on create and rotation',
      examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    }),
  },
  { $id: 'WebhookWithSecret' },
);

export const DeliveryAttemptSchema = Type.Object(
  {
    event_id: Uuid(),
    type: Type.String({ examples: ['identity.verified'] }),
    attempt: Type.Integer({ minimum: 1 }),
    status_code: Nullable(Type.Integer()),
    error: Nullable(Type.String()),
    at: Timestamp(),
    delivery_status: Nullable(
      Type.String({
        enum: ['pending', 'delivered', 'failed'],
        description: "Where the event's delivery stands now: pending (a retry is due), delivered or failed",
      }),
    ),
  },
  { $id: 'WebhookDeliveryAttempt' },
);

export const WebhookParams = Type.Object({ webhook_id: Uuid() });
