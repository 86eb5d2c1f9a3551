import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { forUpdate, isPostgres } from '../../db/dialect.js';
import type { Position } from '../shared/cursor.js';
import type { LinkRequestStatus } from './link-requests.js';
import type { ChatNoticeTable, LinkRequestUpdate, NewLinkRequestRow } from './link-requests.table.js';

export function insertLinkRequest(db: Executor, row: NewLinkRequestRow) {
  return db.insertInto('link_requests').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findLinkRequestById(db: Executor, id: string) {
  return db.selectFrom('link_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockLinkRequestById(db: Executor, id: string) {
  return forUpdate(db, db.selectFrom('link_requests').selectAll().where('id', '=', id)).executeTakeFirst();
}

/** The account's pending row (live or past its expiry), locked. */
export function lockPendingOfAccount(db: Executor, channel: string, externalId: string, scope: string) {
  return forUpdate(
    db,
    db
      .selectFrom('link_requests')
      .selectAll()
      .where('channel', '=', channel)
      .where('external_id', '=', externalId)
      .where('scope', '=', scope)
      .where('status', '=', 'pending'),
  ).executeTakeFirst();
}

/** The requests whose live code has this HMAC (one, but for a collision of 8-symbol codes). */
export function findByCodeHash(db: Executor, codeHmac: string) {
  return db.selectFrom('link_requests').selectAll().where('code_hmac', '=', codeHmac).limit(2).execute();
}

export function updateLinkRequest(db: Executor, id: string, update: LinkRequestUpdate) {
  return db.updateTable('link_requests').set(update).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/**
 * Decides a request that is still pending and unexpired; undefined when it is not (any more).
 * Of concurrent deciders, exactly one gets the row.
 */
export function decidePending(db: Executor, id: string, nowIso: string, update: LinkRequestUpdate) {
  return db
    .updateTable('link_requests')
    .set({ ...update, code_hmac: null, decided_at: nowIso, updated_at: nowIso })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', nowIso)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Whether `cap` requests are pending and unexpired: the cap-th of them, found through the index on
 * (status, expires_at) by an OFFSET, so that no more than the cap's worth of entries are read. A
 * bounded count(*) over a LIMITed subquery read the same entries at about three times the CPU on
 * SQLite (a co-routine step per entry: 240 against 90 µs at 1,000 pending).
 */
export async function livePendingAtCap(db: Executor, nowIso: string, cap: number): Promise<boolean> {
  const row = await db
    .selectFrom('link_requests')
    .select('expires_at')
    .where('status', '=', 'pending')
    .where('expires_at', '>', nowIso)
    .orderBy('status')
    .orderBy('expires_at')
    .limit(1)
    .offset(cap - 1)
    .executeTakeFirst();
  return row !== undefined;
}

/** When the first live pending request expires (and frees a place), if any is pending. */
export async function firstPendingExpiry(db: Executor, nowIso: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('link_requests')
    .select('expires_at')
    .where('status', '=', 'pending')
    .where('expires_at', '>', nowIso)
    .orderBy('expires_at', 'asc')
    .limit(1)
    .executeTakeFirst();
  return row?.expires_at;
}

export interface LinkRequestQuery {
  status?: LinkRequestStatus | undefined;
  channel?: string | undefined;
  limit: number;
  before?: Position | undefined;
  now: string;
}

/** Newest first, `limit` rows; `expired` and `pending` are told apart by expires_at. */
export function listLinkRequests(db: Executor, query: LinkRequestQuery) {
  let q = db.selectFrom('link_requests').selectAll();
  if (query.channel !== undefined) q = q.where('channel', '=', query.channel);
  const { now, status, before } = query;
  if (status === 'pending') q = q.where('status', '=', 'pending').where('expires_at', '>', now);
  else if (status === 'expired') {
    q = q.where((eb) =>
      eb.or([eb('status', '=', 'expired'), eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)])]),
    );
  } else if (status !== undefined) q = q.where('status', '=', status);
  if (before) {
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', before.at), eb.and([eb('created_at', '=', before.at), eb('id', '<', before.id)])]),
    );
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
}

/** Enqueues a chat notice once: a second one for the same request and kind is ignored. */
export function insertChatNotice(db: Executor, row: Omit<ChatNoticeTable, 'attempts' | 'locked_until' | 'last_error'>) {
  return db
    .insertInto('chat_notices')
    .values({ ...row, attempts: 0, locked_until: null, last_error: null })
    .onConflict((oc) => oc.columns(['link_request_id', 'kind']).doNothing())
    .execute();
}

/** An arbitrary constant: the advisory lock that new link requests take one at a time. */
const NEW_REQUESTS_LOCK = 7_340_212;

/**
 * PostgreSQL: new requests one at a time until commit, so that concurrent ones cannot each count
 * one place left and together go beyond the cap. SQLite has one writer already.
 */
export async function lockNewRequests(db: Executor) {
  if (isPostgres(db)) await sql`select pg_advisory_xact_lock(${sql.lit(NEW_REQUESTS_LOCK)})`.execute(db);
}
