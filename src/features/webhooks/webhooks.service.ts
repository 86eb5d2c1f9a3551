import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow, type Random } from '../../internal/clock.js';
import { FieldError, notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { checkWebhookUrl, type Resolver, UnsafeUrlError } from './url-safety.js';
import { newSecret, toWebhook, type Webhook } from './webhooks.js';
import {
  deleteSubscription,
  findLatestDelivery,
  findSubscription,
  insertRedelivery,
  insertSubscription,
  listAttempts,
  listSubscriptions,
  makeDueNow,
  outboxStats,
  updateSubscription,
} from './webhooks.repository.js';
import type { WebhookSubscriptionUpdate } from './webhooks.table.js';

export interface NewWebhook {
  url: string;
  events: string[];
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

export interface WebhookPatch {
  url?: string | undefined;
  events?: string[] | undefined;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

/** One attempt to deliver one event, as GET /v1/webhooks/{id}/deliveries lists it. */
export interface DeliveryAttempt {
  event_id: string;
  type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: string;
  /** Where that event's delivery stands now: pending (a retry is due), delivered or failed. */
  delivery_status: 'pending' | 'delivered' | 'failed' | null;
}

const webhookNotFound = () => notFound('Webhook');

/** "*" alone stands for every type; with others it still means every type, so keep it alone. */
const normalizeEvents = (events: readonly string[]) => (events.includes('*') ? ['*'] : [...new Set(events)]);

export type WebhooksService = ReturnType<typeof createWebhooksService>;

export function createWebhooksService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  random: Random;
  allowPrivateUrls: boolean;
  resolve: Resolver;
  /** Wakes the delivery loop after an operator asked to send an event again. */
  wake: () => void;
}) {
  const { db, uow, clock, random } = deps;

  async function checkUrl(url: string) {
    try {
      await checkWebhookUrl(url, { allowPrivate: deps.allowPrivateUrls, resolve: deps.resolve });
    } catch (error) {
      if (error instanceof UnsafeUrlError) throw new FieldError(['body', 'url'], `Value error, ${error.message}`);
      throw error;
    }
  }

  return {
    async create(actor: Actor, input: NewWebhook): Promise<Webhook & { secret: string }> {
      await checkUrl(input.url);
      const now = isoNow(clock);
      const secret = newSecret(random);
      return mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await insertSubscription(trx, {
            id: randomUUID(),
            url: input.url,
            events: JSON.stringify(normalizeEvents(input.events)),
            description: input.description ?? null,
            enabled: input.enabled === false ? 0 : 1,
            secret,
            created_at: now,
            updated_at: now,
          });
          const webhook = toWebhook(row);
          fx.webhooksChanged();
          await fx.audit({ action: 'webhook.created', after: webhook });
          return { ...webhook, secret };
        }),
      );
    },

    async list(): Promise<Webhook[]> {
      return (await mapDbError(() => listSubscriptions(db))).map(toWebhook);
    },

    async get(id: string): Promise<Webhook> {
      const row = await mapDbError(() => findSubscription(db, id));
      if (!row) throw webhookNotFound();
      return toWebhook(row);
    },

    async update(actor: Actor, id: string, patch: WebhookPatch): Promise<Webhook> {
      if (patch.url !== undefined) await checkUrl(patch.url);
      return mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await findSubscription(trx, id);
          if (!row) throw webhookNotFound();
          const update: WebhookSubscriptionUpdate = {};
          if (patch.url !== undefined) update.url = patch.url;
          if (patch.events !== undefined) update.events = JSON.stringify(normalizeEvents(patch.events));
          if (patch.description !== undefined) update.description = patch.description;
          if (patch.enabled !== undefined) update.enabled = patch.enabled ? 1 : 0;
          const changed = Object.entries(update).some(([k, v]) => row[k as keyof typeof row] !== v);
          if (!changed) return toWebhook(row);
          update.updated_at = isoNow(clock);
          const updated = await updateSubscription(trx, id, update);
          if (!updated) throw webhookNotFound();
          const after = toWebhook(updated);
          fx.webhooksChanged();
          await fx.audit({ action: 'webhook.updated', before: toWebhook(row), after });
          return after;
        }),
      );
    },

    async delete(actor: Actor, id: string): Promise<void> {
      await mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await findSubscription(trx, id);
          if (!row || !(await deleteSubscription(trx, id))) throw webhookNotFound();
          fx.webhooksChanged();
          await fx.audit({ action: 'webhook.deleted', before: toWebhook(row) });
        }),
      );
    },

    /** A new secret, in force for the next attempt; the old one signs nothing more. */
    async rotateSecret(actor: Actor, id: string): Promise<Webhook & { secret: string }> {
      const secret = newSecret(random);
      return mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await updateSubscription(trx, id, { secret, updated_at: isoNow(clock) });
          if (!row) throw webhookNotFound();
          const webhook = toWebhook(row);
          await fx.audit({ action: 'webhook.secret_rotated', after: webhook });
          return { ...webhook, secret };
        }),
      );
    },

    /** Recent attempts, newest first. */
    async deliveries(id: string, query: { limit: number; event_id?: string | undefined }): Promise<DeliveryAttempt[]> {
      return mapDbError(async () => {
        if (!(await findSubscription(db, id))) throw webhookNotFound();
        const rows = await listAttempts(db, id, {
          limit: query.limit,
          ...(query.event_id ? { eventId: query.event_id } : {}),
        });
        return rows.map((row) => ({
          event_id: row.event_id,
          type: row.type,
          attempt: row.attempt,
          status_code: row.status_code,
          error: row.error,
          at: row.at,
          delivery_status: (row.delivery_status as DeliveryAttempt['delivery_status']) ?? null,
        }));
      });
    },

    /**
     * Sends one event again: a delivery waiting for its retry is made due at once; one delivered,
     * failed or in flight is queued anew behind the subscription's pending events, its attempts
     * counted on.
     */
    async retry(id: string, eventId: string) {
      const result = await mapDbError(() =>
        db.transaction().execute(async (trx) => {
          if (!(await findSubscription(trx, id))) throw webhookNotFound();
          const delivery = await findLatestDelivery(trx, id, eventId);
          if (!delivery) throw notFound('Event');
          const now = isoNow(clock);
          // Waiting for a retry: try it now. Being sent right now, delivered or failed: send it once more.
          const waiting =
            delivery.status === 'pending' && (delivery.locked_until === null || delivery.locked_until <= now);
          if (waiting) await makeDueNow(trx, delivery.seq, now);
          else
            await insertRedelivery(trx, { subscription_id: id, event_id: eventId, attempts: delivery.attempts }, now);
          return { event_id: eventId, type: delivery.type, status: 'pending' as const };
        }),
      );
      deps.wake();
      return result;
    },

    /** The outbox's depth and the age of its oldest waiting event (for /metrics). */
    stats: () => outboxStats(db),
  };
}
