/** The API's bodies: the same types as the runtime's client, so that the two cannot drift apart. */
export type {
  ClaimCode,
  Customer,
  Erasure,
  Identity,
  Json,
  LinkRequest,
  LinkRequestApproval,
  LinkRequestStatus,
  Merge,
  MergePreview,
  MergeResult,
  Metadata as JsonObject,
  Page,
  ServiceInfo,
  SuppressedValue,
  Suppression,
  UndoResult,
  ValidationIssue as ValidationItem,
  VerifiedVia,
} from '../../../packages/client/src/types.js';
export type {
  Webhook,
  WebhookDeliveryAttempt as Delivery,
  WebhookEventType,
  WebhookWithSecret,
} from '../../../packages/client/src/webhook-types.js';

import type { Json } from '../../../packages/client/src/types.js';

/** One entry of the audit trail (GET /v1/audit); only the dashboard reads it. */
export interface AuditEvent {
  id: string;
  at: string;
  actor_key_id: string | null;
  actor: string;
  action: string;
  customer_id: string | null;
  identity_id: string | null;
  before: Json;
  after: Json;
  /** 'platform' when a chat platform's signed message made the change. */
  source?: string;
}

export type Scope = 'admin' | 'runtime';

export interface ApiKey {
  id: string;
  name: string;
  scope: Scope;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

/** The answer to POST /v1/api-keys: the only time `key` is shown. */
export interface NewApiKey extends Omit<ApiKey, 'last_used_at'> {
  key: string;
}

/** The event types a webhook can subscribe to (CONTRACT.md, "Events out"); `*` is every one. */
export { WEBHOOK_EVENT_TYPES as EVENT_TYPES } from '../../../packages/client/src/webhook-types.js';
