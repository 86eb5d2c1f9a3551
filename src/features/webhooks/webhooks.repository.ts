import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { isPostgres } from '../../db/dialect.js';
import type {
  NewWebhookSubscriptionRow,
  WebhookAttemptTable,
  WebhookEventTable,
  WebhookSubscriptionUpdate,
} from './webhooks.table.js';

// Subscriptions

export function insertSubscription(db: Executor, row: NewWebhookSubscriptionRow) {
  return db.insertInto('webhook_subscriptions').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findSubscription(db: Executor, id: string) {
  return db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Oldest first. */
export function listSubscriptions(db: Executor) {
  return db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at').orderBy('id').execute();
}

export function updateSubscription(db: Executor, id: string, update: WebhookSubscriptionUpdate) {
  return db.updateTable('webhook_subscriptions').set(update).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteSubscription(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The event lists of the enabled subscriptions (what the outbox's interest cache holds). */
export async function enabledEventLists(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('webhook_subscriptions').select('events').where('enabled', '=', 1).execute();
  return rows.map((row) => row.events);
}

// The outbox

export async function insertEvent(db: Executor, event: WebhookEventTable) {
  await db.insertInto('webhook_events').values(event).execute();
}

/** The customers and identities an event is about (how an export or an erasure finds it). */
export async function insertEventSubjects(db: Executor, eventId: string, subjectIds: readonly string[]) {
  if (subjectIds.length === 0) return;
  await db
    .insertInto('webhook_event_subjects')
    .values(subjectIds.map((subject_id) => ({ event_id: eventId, subject_id })))
    .execute();
}

/**
 * One pending delivery per enabled subscription that wants the event, chosen by the database in
 * the same statement: exact at the moment of the change, whatever any cache believed.
 */
export async function fanOutEvent(db: Executor, event: { id: string; type: string }, now: string) {
  await db
    .insertInto('webhook_deliveries')
    .columns(['subscription_id', 'event_id', 'status', 'attempts', 'next_attempt_at', 'created_at', 'updated_at'])
    .expression((eb) =>
      eb
        .selectFrom('webhook_subscriptions')
        .select((s) => [
          'id',
          s.val(event.id).as('event_id'),
          s.val('pending').as('status'),
          s.val(0).as('attempts'),
          s.val(now).as('next_attempt_at'),
          s.val(now).as('created_at'),
          s.val(now).as('updated_at'),
        ])
        .where('enabled', '=', 1)
        .where((w) => w.or([w('events', 'like', '%"*"%'), w('events', 'like', `%"${event.type}"%`)])),
    )
    .execute();
}

// The delivery loop

export interface DueDelivery {
  seq: number;
  subscription_id: string;
  event_id: string;
  attempts: number;
  type: string;
  payload: string;
  url: string;
  secret: string;
}

/**
 * The oldest pending delivery of each enabled subscription, when it is due and nobody holds it:
 * only a subscription's head is ever sent, so its events go out in the order they were written.
 */
export async function findDueHeads(
  db: Executor,
  now: string,
  options: { exclude: readonly string[]; limit: number },
): Promise<DueDelivery[]> {
  let query = db
    .selectFrom('webhook_subscriptions as s')
    .innerJoin('webhook_deliveries as d', (join) =>
      join.onRef('d.subscription_id', '=', 's.id').on((eb) =>
        eb(
          'd.seq',
          '=',
          eb
            .selectFrom('webhook_deliveries as x')
            .select((x) => x.fn.min('x.seq').as('head'))
            .whereRef('x.subscription_id', '=', 's.id')
            .where('x.status', '=', 'pending'),
        ),
      ),
    )
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select(['d.seq', 'd.subscription_id', 'd.event_id', 'd.attempts', 'e.type', 'e.payload', 's.url', 's.secret'])
    .where('s.enabled', '=', 1)
    .where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.locked_until', 'is', null), eb('d.locked_until', '<=', now)]));
  if (options.exclude.length > 0) query = query.where('s.id', 'not in', options.exclude);
  const rows = await query.orderBy('d.next_attempt_at').limit(options.limit).execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}

/**
 * Takes a delivery for one attempt: counts the attempt and holds it until `leaseUntil`, only if
 * it is still pending, due, unheld and at the attempt count seen. A compare-and-set, so that of
 * several replicas one wins and no attempt is sent twice; on PostgreSQL the row is taken with
 * FOR UPDATE SKIP LOCKED, so a replica never waits on another's claim.
 */
export async function claimDelivery(
  db: Executor,
  delivery: { seq: number; attempts: number },
  now: string,
  leaseUntil: string,
): Promise<boolean> {
  let query = db
    .updateTable('webhook_deliveries')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), locked_until: leaseUntil, updated_at: now }))
    .where('seq', '=', delivery.seq)
    .where('status', '=', 'pending')
    .where('attempts', '=', delivery.attempts)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]));
  if (isPostgres(db)) {
    query = query.where(
      'seq',
      'in',
      db
        .selectFrom('webhook_deliveries')
        .select('seq')
        .where('seq', '=', delivery.seq)
        .modifyEnd(sql`for update skip locked`),
    );
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records the outcome of attempt number `attempt`, unless another sender has taken the delivery since. */
export async function settleDelivery(
  db: Executor,
  delivery: { seq: number; attempt: number },
  outcome: { status: 'pending' | 'delivered' | 'failed'; nextAttemptAt: string | null; now: string },
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({
      status: outcome.status,
      locked_until: null,
      updated_at: outcome.now,
      ...(outcome.nextAttemptAt ? { next_attempt_at: outcome.nextAttemptAt } : {}),
    })
    .where('seq', '=', delivery.seq)
    .where('attempts', '=', delivery.attempt)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertAttempt(db: Executor, attempt: WebhookAttemptTable) {
  await db.insertInto('webhook_attempts').values(attempt).execute();
}

/** Newest first, with the current state of each attempt's delivery. */
export function listAttempts(db: Executor, subscriptionId: string, query: { limit: number; eventId?: string }) {
  let q = db
    .selectFrom('webhook_attempts as a')
    .select(['a.id', 'a.event_id', 'a.type', 'a.attempt', 'a.status_code', 'a.error', 'a.at'])
    .select((eb) =>
      eb
        .selectFrom('webhook_deliveries as d')
        .select('d.status')
        .whereRef('d.event_id', '=', 'a.event_id')
        .whereRef('d.subscription_id', '=', 'a.subscription_id')
        .orderBy('d.seq', 'desc')
        .limit(1)
        .as('delivery_status'),
    )
    .where('a.subscription_id', '=', subscriptionId);
  if (query.eventId) q = q.where('a.event_id', '=', query.eventId);
  return q.orderBy('a.at', 'desc').orderBy('a.attempt', 'desc').orderBy('a.id', 'desc').limit(query.limit).execute();
}

/** The latest delivery of an event to a subscription. */
export async function findLatestDelivery(db: Executor, subscriptionId: string, eventId: string) {
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select(['d.seq', 'd.status', 'd.attempts', 'd.next_attempt_at', 'd.locked_until', 'e.type'])
    .where('d.subscription_id', '=', subscriptionId)
    .where('d.event_id', '=', eventId)
    .orderBy('d.seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { ...row, seq: Number(row.seq) } : undefined;
}

export async function makeDueNow(db: Executor, seq: number, now: string) {
  await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: now, updated_at: now })
    .where('seq', '=', seq)
    .where('status', '=', 'pending')
    .execute();
}

/** A delivery sent again: a new one at the end of the queue, its attempts counted on from the last. */
export async function insertRedelivery(
  db: Executor,
  delivery: { subscription_id: string; event_id: string; attempts: number },
  now: string,
) {
  await db
    .insertInto('webhook_deliveries')
    .values({
      ...delivery,
      status: 'pending',
      next_attempt_at: now,
      locked_until: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** How many deliveries wait, and since when the oldest of their events. */
export async function outboxStats(db: Executor): Promise<{ depth: number; oldest: string | null }> {
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select((eb) => [eb.fn.countAll<number | string>().as('depth'), eb.fn.min('e.created_at').as('oldest')])
    .where('d.status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return { depth: Number(row.depth), oldest: (row.oldest as string | null) ?? null };
}
