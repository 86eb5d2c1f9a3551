import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface WebhookSubscriptionTable {
  id: string;
  url: string;
  /** JSON array of event types, or ["*"]. */
  events: string;
  description: string | null;
  /** 1 or 0 (an integer on both databases). */
  enabled: number;
  /** `whsec_…`, kept as given: it keys the HMAC of every delivery. Never logged, never listed. */
  secret: string;
  created_at: string;
  updated_at: string;
}

/** The outbox: one row per event, written in the transaction of the change it describes. */
export interface WebhookEventTable {
  id: string;
  type: string;
  created_at: string;
  /** The JSON body, sent byte for byte on every attempt. */
  payload: string;
}

/** Which customers and identities an event is about: how a person's events are found by index. */
export interface WebhookEventSubjectTable {
  event_id: string;
  /** A customer id or an identity id. */
  subject_id: string;
}

export interface WebhookDeliveryTable {
  /** Orders a subscription's deliveries as their events were written (PostgreSQL: bigint, read as a string). */
  seq: Generated<number | string>;
  subscription_id: string;
  event_id: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookAttemptTable {
  id: string;
  subscription_id: string;
  event_id: string;
  type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: string;
}

export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionTable>;
export type NewWebhookSubscriptionRow = Insertable<WebhookSubscriptionTable>;
export type WebhookSubscriptionUpdate = Updateable<WebhookSubscriptionTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;
