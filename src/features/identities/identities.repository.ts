import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import { CompiledQuery, type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, Executor } from '../../db/database.js';
import { forUpdate, textPairs } from '../../db/dialect.js';
import { identityKeyText } from './identities.js';
import type { IdentityUpdate, LookupRow, NewIdentityRow } from './identities.table.js';

export type { LookupRow } from './identities.table.js';

export function insertIdentity(db: Executor, row: NewIdentityRow) {
  return db.insertInto('identities').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Oldest first. */
export function listIdentityRowsOfCustomer(db: Executor, customerId: string, channel?: string) {
  let q = db.selectFrom('identities').selectAll().where('customer_id', '=', customerId);
  if (channel !== undefined) q = q.where('channel', '=', channel);
  return q.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
}

export async function countIdentitiesOfCustomer(db: Executor, customerId: string): Promise<number> {
  const row = await db
    .selectFrom('identities')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export function lockIdentityOfCustomer(db: Executor, customerId: string, identityId: string) {
  return forUpdate(
    db,
    db.selectFrom('identities').selectAll().where('id', '=', identityId).where('customer_id', '=', customerId),
  ).executeTakeFirst();
}

/** The identity row, locked for the rest of the transaction (before its claim code: see unit-of-work.ts). */
export function lockIdentityById(db: Executor, identityId: string) {
  return forUpdate(db, db.selectFrom('identities').selectAll().where('id', '=', identityId)).executeTakeFirst();
}

export function updateIdentity(db: Executor, id: string, update: IdentityUpdate) {
  return db.updateTable('identities').set(update).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export function deleteIdentity(db: Executor, id: string) {
  return db.deleteFrom('identities').where('id', '=', id).executeTakeFirst();
}

/**
 * Every scope of one channel identity (usually one row), with its customer's email, by any key of
 * the identity: its own external id or an alias (identity_keys' unique index serves it).
 */
function lookupQuery(
  db: Executor,
  channel: string | RawBuilder<string>,
  externalId: string | RawBuilder<string>,
  limit: number | RawBuilder<number>,
) {
  return db
    .selectFrom('identity_keys as k')
    .innerJoin('identities as i', 'i.id', 'k.identity_id')
    .innerJoin('customers as c', 'c.id', 'i.customer_id')
    .select([
      'i.id as identity_id',
      'i.customer_id',
      'i.channel',
      'i.external_id',
      'i.instance_id',
      'i.display_name',
      'i.role_override',
      'i.verified_at',
      'i.verified_via',
      'c.email as customer_email',
    ])
    .where('k.channel', '=', channel)
    .where('k.external_id', '=', externalId)
    .limit(limit);
}

/**
 * The rows of one channel identity that can answer a lookup with this instance id: its own scope
 * and the unscoped one (without an instance id, the unscoped one only).
 */
export function findLookupRowsInScope(
  db: Executor,
  channel: string,
  externalId: string,
  instanceId: string | undefined,
) {
  return lookupQuery(db, channel, externalId, 2)
    .where((eb) =>
      instanceId === undefined
        ? eb('i.instance_id', 'is', null)
        : eb.or([eb('i.instance_id', 'is', null), eb('i.instance_id', '=', instanceId)]),
    )
    .execute();
}

type LookupQueryRow = Awaited<ReturnType<ReturnType<typeof lookupQuery>['execute']>>[number];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
/** Fails to compile when the lookup's query and LookupRow (identities.table.ts) no longer agree. */
export type LookupRowMatchesQuery = Holds<Same<LookupQueryRow, LookupRow>>;

/** Db's fast paths for one read statement, each optional (see create-db.ts). */
export interface LookupReaders {
  /** Db.readQuery (SQLite files): synchronous, on a read-only connection, without Kysely's executor. */
  readQuery?: (<R>(sql: string, parameters: readonly unknown[]) => R[]) | undefined;
  /** Db.namedQuery (PostgreSQL): a named prepared statement, parsed and planned once per connection. */
  namedQuery?: (<R>(name: string, sql: string, parameters: readonly unknown[]) => Promise<R[]>) | undefined;
}

/**
 * The lookup's query with its SQL built and compiled once, for the lookup's hot path: Kysely's
 * builder and compiler cost more per request than the indexed query itself (measured: about
 * 30 µs of 65). The parameters are placed by where the compiler put them, not by assumption.
 * The limit is written into the SQL text, not bound: SQLite runs this join with `LIMIT ?` at
 * 2–3 times the CPU of `LIMIT 33` (19 against 6 µs a lookup with every page cached; measured
 * with better-sqlite3 on a million identities).
 * On a SQLite file the rows come back at once (no promise: issue 21); on PostgreSQL the lookups
 * asked for while the event loop turns once go out as one statement (see batchedLookups).
 */
export function prepareFindLookupRows(db: Kysely<Database>, limit: number, readers: LookupReaders = {}) {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new Error(`a lookup's limit must be a positive integer, not ${limit}`);
  const { readQuery, namedQuery } = readers;
  const one = compileWithMarks(lookupQuery(db, MARKS[0], MARKS[1], sql.lit(limit)).compile());
  if (namedQuery) return batchedLookups(db, limit, namedQuery, one);
  return (channel: string, externalId: string): LookupRow[] | Promise<LookupRow[]> => {
    const parameters = one.parameters(channel, externalId);
    if (readQuery) return readQuery<LookupRow>(one.sql, parameters);
    return db.executeQuery<LookupRow>(CompiledQuery.raw(one.sql, parameters)).then((result) => result.rows);
  };
}

const MARKS = ['\u0000channel', '\u0000external_id'] as const;

/** A statement compiled with MARKS for its two parameters, and where the compiler put them. */
function compileWithMarks(compiled: CompiledQuery) {
  const slots = compiled.parameters.map((p) => MARKS.indexOf(p as (typeof MARKS)[number]));
  if (slots.length !== 2 || slots.some((slot) => slot < 0)) throw new Error('unexpected lookup query parameters');
  return {
    sql: compiled.sql,
    // Named by its text: PostgreSQL refuses one name for two different statements on a connection.
    name: `identity_lookup_${createHash('sha1').update(compiled.sql).digest('hex').slice(0, 16)}`,
    parameters: <T>(channel: T, externalId: T) => slots.map((slot) => (slot === 0 ? channel : externalId)),
  };
}

type NamedQuery = NonNullable<LookupReaders['namedQuery']>;
type LookupKey = readonly [channel: string, externalId: string];
type KeyedLookupRow = LookupRow & { key_channel: string; key_external_id: string };

/** Keys one statement reads at most. */
const LOOKUPS_PER_STATEMENT = 128;

/**
 * PostgreSQL: the lookups asked for during one turn of the event loop (the requests of every
 * connection that was readable) read by one named statement, each key's rows as `lookupQuery`
 * reads them, at most `limit` each (a lateral join over the keys). A round trip to PostgreSQL
 * costs both processes far more CPU than the index reads of a key, so at a million identities
 * the misses of many requests share one (BENCHMARKS.md, issue 21). Batching is dataloader's,
 * with no cache of its own (the lookup cache is the service's). If a batch fails, each of its
 * keys is read alone, so that one key's error is only that lookup's.
 */
function batchedLookups(
  db: Kysely<Database>,
  limit: number,
  namedQuery: NamedQuery,
  one: ReturnType<typeof compileWithMarks>,
) {
  const inner = lookupQuery(db, sql.ref('q.channel'), sql.ref('q.external_id'), sql.lit(limit));
  const many = compileWithMarks(
    sql<KeyedLookupRow>`select q.channel as key_channel, q.external_id as key_external_id, r.*
      from ${textPairs(MARKS[0], MARKS[1], 'q', ['channel', 'external_id'])}
      cross join lateral (${inner}) as r`.compile(db),
  );
  const readOne = ([channel, externalId]: LookupKey) =>
    namedQuery<LookupRow>(one.name, one.sql, one.parameters(channel, externalId));
  const loader = new DataLoader<LookupKey, LookupRow[]>(
    async (keys) => {
      if (keys.length === 1) return [await readOne(keys[0] as LookupKey)];
      const distinct = new Map(keys.map((key) => [identityKeyText(...key), key]));
      const channels = [...distinct.values()].map((key) => key[0]);
      const externalIds = [...distinct.values()].map((key) => key[1]);
      let rows: KeyedLookupRow[];
      try {
        rows = await namedQuery<KeyedLookupRow>(many.name, many.sql, many.parameters(channels, externalIds));
      } catch {
        const alone = new Map(
          [...distinct].map(([text, key]) => [text, readOne(key).catch((error: unknown) => toError(error))]),
        );
        return Promise.all(keys.map((key) => alone.get(identityKeyText(...key)) as Promise<LookupRow[] | Error>));
      }
      const found = new Map<string, LookupRow[]>();
      for (const { key_channel, key_external_id, ...row } of rows) {
        const text = identityKeyText(key_channel, key_external_id);
        const list = found.get(text);
        if (list) list.push(row);
        else found.set(text, [row]);
      }
      return keys.map((key) => found.get(identityKeyText(...key)) ?? []);
    },
    { cache: false, maxBatchSize: LOOKUPS_PER_STATEMENT, batchScheduleFn: (run) => setImmediate(run) },
  );
  return (channel: string, externalId: string): Promise<LookupRow[]> => loader.load([channel, externalId]);
}

const toError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** The identities a sender may be (by external id or alias), given the instance the message came through (if known). */
export function findSenderIdentities(
  db: Executor,
  channel: string,
  externalId: string,
  instanceId: string | undefined,
) {
  let q = db
    .selectFrom('identity_keys as k')
    .innerJoin('identities as i', 'i.id', 'k.identity_id')
    .selectAll('i')
    .where('k.channel', '=', channel)
    .where('k.external_id', '=', externalId);
  if (instanceId !== undefined) {
    q = q.where((eb) => eb.or([eb('i.instance_id', 'is', null), eb('i.instance_id', '=', instanceId)]));
  }
  return q.execute();
}

/** The aliases of these identities, oldest first, by identity id. */
export async function aliasesOf(db: Executor, identityIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const rows = [];
  for (const chunk of chunks(identityIds)) {
    rows.push(
      ...(await db
        .selectFrom('identity_keys')
        .select(['identity_id', 'external_id'])
        .where('identity_id', 'in', chunk)
        .where('kind', '=', 'alias')
        .orderBy('created_at', 'asc')
        .orderBy('external_id', 'asc')
        .execute()),
    );
  }
  for (const row of rows) {
    const list = out.get(row.identity_id) ?? [];
    list.push(row.external_id);
    out.set(row.identity_id, list);
  }
  return out;
}

/** Every (channel, external id) under which these identities are found: what a change makes stale. */
export async function keysOfIdentities(db: Executor, identityIds: readonly string[]) {
  const keys: { channel: string; external_id: string }[] = [];
  for (const chunk of chunks(identityIds)) {
    keys.push(
      ...(await db
        .selectFrom('identity_keys')
        .select(['channel', 'external_id'])
        .where('identity_id', 'in', chunk)
        .execute()),
    );
  }
  return keys;
}

/** Every key of every identity of a customer. */
export function keysOfCustomer(db: Executor, customerId: string) {
  return db
    .selectFrom('identity_keys as k')
    .innerJoin('identities as i', 'i.id', 'k.identity_id')
    .select(['k.channel', 'k.external_id'])
    .where('i.customer_id', '=', customerId)
    .execute();
}

/** Who has this key in this scope ('' = unscoped), if anyone. */
export function findKeyOwner(db: Executor, channel: string, externalId: string, scope: string) {
  return db
    .selectFrom('identity_keys as k')
    .innerJoin('identities as i', 'i.id', 'k.identity_id')
    .select(['i.id as identity_id', 'i.customer_id', 'k.kind'])
    .where('k.channel', '=', channel)
    .where('k.external_id', '=', externalId)
    .where('k.scope', '=', scope)
    .executeTakeFirst();
}

export function insertAlias(
  db: Executor,
  row: { channel: string; external_id: string; scope: string; identity_id: string; created_at: string },
) {
  return db
    .insertInto('identity_keys')
    .values({ ...row, kind: 'alias' })
    .execute();
}

export async function deleteAlias(db: Executor, identityId: string, externalId: string) {
  const result = await db
    .deleteFrom('identity_keys')
    .where('identity_id', '=', identityId)
    .where('external_id', '=', externalId)
    .where('kind', '=', 'alias')
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Re-keys one key of an identity (a phone number or user id the platform says changed). */
export function renameAlias(db: Executor, identityId: string, from: string, to: string) {
  return db
    .updateTable('identity_keys')
    .set({ external_id: to })
    .where('identity_id', '=', identityId)
    .where('external_id', '=', from)
    .where('kind', '=', 'alias')
    .execute();
}

/** The identities of a customer, locked for a change of owner (PostgreSQL). */
export function lockIdentitiesOfCustomer(db: Executor, customerId: string) {
  return forUpdate(
    db,
    db
      .selectFrom('identities')
      .selectAll()
      .where('customer_id', '=', customerId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc'),
  ).execute();
}

/** Every identity of `from` goes to `to`, as it is. */
export function moveAllIdentities(db: Executor, from: string, to: string, now: string) {
  return db
    .updateTable('identities')
    .set({ customer_id: to, updated_at: now })
    .where('customer_id', '=', from)
    .execute();
}

/** These identities go from `from` to `to`, those of them still on `from`; returns the ids moved. */
export async function moveIdentitiesBack(db: Executor, ids: readonly string[], from: string, to: string, now: string) {
  const moved: string[] = [];
  for (const chunk of chunks(ids)) {
    const rows = await db
      .updateTable('identities')
      .set({ customer_id: to, updated_at: now })
      .where('customer_id', '=', from)
      .where('id', 'in', chunk)
      .returning('id')
      .execute();
    moved.push(...rows.map((r) => r.id));
  }
  return moved;
}

/** Values per `IN (…)` list: far below both databases' limits on bound parameters. */
const IN_LIST = 900;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IN_LIST) out.push(items.slice(i, i + IN_LIST));
  return out;
}
