import type { Random } from '../../internal/clock.js';
import type { WebhookSubscriptionRow } from './webhooks.table.js';

/** Every event type a subscription may ask for (CONTRACT.md, "Events out: signed webhooks"). */
export const EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer.merged',
  'customer.unmerged',
  'customer.erased',
  'identity.linked',
  'identity.updated',
  'identity.verified',
  'identity.unverified',
  'identity.moved',
  'identity.unlinked',
  'identity.alias_added',
  'identity.alias_removed',
  'claim.redeemed',
  'link_request.created',
  'link_request.approved',
  'link_request.rejected',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** A subscription as the API shows it; the secret only on create and rotation. */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  created_at: string;
}

export const toWebhook = (row: WebhookSubscriptionRow): Webhook => ({
  id: row.id,
  url: row.url,
  events: JSON.parse(row.events) as string[],
  description: row.description,
  enabled: row.enabled === 1,
  created_at: row.created_at,
});

/** A subscription wants a type when it lists it, or lists "*". */
export const wants = (events: readonly string[], type: string) => events.includes('*') || events.includes(type);

/** Standard Webhooks' secret: `whsec_` and the base64 of 32 random bytes (the HMAC key). */
export const newSecret = (random: Random) => `whsec_${random.bytes(32).toString('base64')}`;

/**
 * Seconds to wait after a failed attempt, by the number of attempts made so far: the first retry
 * within 10 s, then minutes, then hours; the tenth attempt comes about 23 h 36 min after the
 * first, and when it fails too the delivery is failed (RETRY_SCHEDULE_SECONDS.length + 1 attempts).
 */
export const RETRY_SCHEDULE_SECONDS = [10, 60, 300, 1_800, 3_600, 7_200, 14_400, 28_800, 28_800] as const;

/** The wait before the next attempt after `attempts` failed ones, or undefined to give up. */
export const retryDelaySeconds = (attempts: number): number | undefined => RETRY_SCHEDULE_SECONDS[attempts - 1];
