/** The API's bodies: the same types as the runtime's client, so that the two cannot drift apart. */
export type {
  ClaimCode,
  Customer,
  Identity,
  Json,
  Merge,
  MergePreview,
  MergeResult,
  Metadata as JsonObject,
  Page,
  ServiceInfo,
  UndoResult,
  ValidationIssue as ValidationItem,
  VerifiedVia,
} from '../../../packages/client/src/types.js';

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

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  created_at: string;
}

/** The answer to creating a webhook or rotating its secret: the only times `secret` is shown. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

/** The event types a webhook can subscribe to (CONTRACT.md, "Events out"); `*` is every one. */
export const EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer.merged',
  'customer.unmerged',
  'identity.linked',
  'identity.updated',
  'identity.verified',
  'identity.unverified',
  'identity.moved',
  'identity.unlinked',
  'identity.alias_added',
  'identity.alias_removed',
  'claim.redeemed',
] as const;

/** One attempt to deliver an event to a webhook. */
export interface Delivery {
  event_id: string;
  type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: string;
  /** Where the event's delivery stands now (a field beyond the contract's; absent on older servers). */
  delivery_status?: 'pending' | 'delivered' | 'failed' | null;
}
