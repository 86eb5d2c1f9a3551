import type { Executor } from '../../db/database.js';

/**
 * Notices due for an attempt: pending, due, and held by nobody. A notice whose lease lapsed with
 * its attempt unrecorded is not due (see `lapsedNotices`): it may have been sent.
 */
export function findDueNotices(db: Executor, nowIso: string, limit: number) {
  return db
    .selectFrom('chat_notices')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', nowIso)
    .where('locked_until', 'is', null)
    .orderBy('next_attempt_at', 'asc')
    .limit(limit)
    .execute();
}

/**
 * Takes a notice for one attempt: counts it and leases it until `leaseUntil`, only if nobody took
 * it since it was read (a compare-and-set on the attempt count). True for exactly one taker.
 */
export async function claimNotice(
  db: Executor,
  notice: { id: string; attempts: number },
  nowIso: string,
  leaseUntil: string,
): Promise<boolean> {
  const result = await db
    .updateTable('chat_notices')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), locked_until: leaseUntil, updated_at: nowIso }))
    .where('id', '=', notice.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', notice.attempts)
    .where('locked_until', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records the attempt `attempt` of a notice; false when another record of it stands. */
export async function settleNotice(
  db: Executor,
  notice: { id: string; attempt: number },
  outcome:
    | { status: 'sent' }
    | { status: 'pending'; nextAttemptAt: string; error: string }
    | { status: 'failed'; error: string },
  nowIso: string,
): Promise<boolean> {
  let query = db
    .updateTable('chat_notices')
    .set({
      status: outcome.status,
      locked_until: null,
      updated_at: nowIso,
      last_error: outcome.status === 'sent' ? null : outcome.error.slice(0, 500),
      ...(outcome.status === 'pending' ? { next_attempt_at: outcome.nextAttemptAt } : {}),
    })
    .where('id', '=', notice.id)
    .where('attempts', '=', notice.attempt);
  // A success stands even over a lease given up for lost meanwhile (the message did go out);
  // anything else only while the attempt is still the notice's own.
  query = outcome.status === 'sent' ? query.where('status', '!=', 'sent') : query.where('status', '=', 'pending');
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Pending notices whose sender's lease ran out before it recorded the attempt. */
export function lapsedNotices(db: Executor, nowIso: string, limit: number) {
  return db
    .selectFrom('chat_notices')
    .select(['id', 'link_request_id', 'channel', 'kind', 'attempts'])
    .where('status', '=', 'pending')
    .where('locked_until', '<=', nowIso)
    .limit(limit)
    .execute();
}

/** Gives up a lapsed notice, unless its sender recorded it meanwhile. */
export async function giveUpLapsed(db: Executor, notice: { id: string; attempts: number }, nowIso: string) {
  const result = await db
    .updateTable('chat_notices')
    .set({
      status: 'failed',
      locked_until: null,
      updated_at: nowIso,
      last_error: 'outcome unknown: the attempt was never recorded',
    })
    .where('id', '=', notice.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', notice.attempts)
    .where('locked_until', '<=', nowIso)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Finished notices (sent or given up) last touched before `beforeIso`. */
export function pruneNotices(db: Executor, beforeIso: string) {
  return db
    .deleteFrom('chat_notices')
    .where('status', 'in', ['sent', 'failed'])
    .where('updated_at', '<', beforeIso)
    .execute();
}

/** Notices waiting to be sent or retried, for /metrics. */
export async function countPendingNotices(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('chat_notices')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
