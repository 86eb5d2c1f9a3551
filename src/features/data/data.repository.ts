import { CompiledQuery, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { isPostgres } from '../../db/dialect.js';
import type { CustomerRow, NewCustomerRow } from '../customers/customers.table.js';
import type { IdentityKeyTable, IdentityRow, NewIdentityRow } from '../identities/identities.table.js';

/**
 * Rows per multi-row INSERT: few statements (each prepared once per chunk) while staying far
 * below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
 */
const INSERT_ROWS = 500;
/** Values per `IN (…)` list. */
const IN_LIST = 900;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Settings of the importing connection, for the import's time (SQLite; PostgreSQL: nothing):
 * - a page cache of up to 32 MB instead of 2 MB (a memory bound, not an allocation): an import
 *   touches every index page many times over. Not more: while the file is under 1 GiB, SQLite
 *   scans the cache's whole hash table at every commit (B-tree balancing parks a page under the
 *   number of the page at 1 GiB, and the end of each transaction drops pages past the file's end),
 *   and that table grows with the cache: 1M customers took 21.0–21.8 s with 256 MB against
 *   19.3–19.8 s with 32 MB or 2 MB, and 650 against 370 MB of memory (docs/performance.md);
 * - a checkpoint once the WAL holds 10,000 pages (40 MB) instead of 1,000: each checkpoint copies
 *   the pages written since the last one into the database file and syncs it, and the same pages
 *   (the right edges of the indexes) are written by every batch, so fewer checkpoints write each
 *   page fewer times (1M customers, SQLite alone: 23.3 → 18.3 s; BENCHMARKS.md).
 * Returns what puts the connection back as it was.
 */
export async function tuneForImport(db: Executor): Promise<() => Promise<void>> {
  if (isPostgres(db)) return async () => undefined;
  const read = async (pragma: string) =>
    Object.values((await sql.raw(`pragma ${pragma}`).execute(db)).rows[0] as Record<string, unknown>)[0];
  const [cacheSize, autocheckpoint] = [Number(await read('cache_size')), Number(await read('wal_autocheckpoint'))];
  await sql`pragma cache_size = -32768`.execute(db);
  await sql`pragma wal_autocheckpoint = 10000`.execute(db);
  return async () => {
    await sql.raw(`pragma cache_size = ${cacheSize}`).execute(db);
    await sql.raw(`pragma wal_autocheckpoint = ${autocheckpoint}`).execute(db);
  };
}

/** The tables an import writes. */
const IMPORTED_TABLES = ['customers', 'identities', 'identity_keys'] as const;
type Table = (typeof IMPORTED_TABLES)[number];

/**
 * After a large import, PostgreSQL: `VACUUM (ANALYZE)` of the tables it wrote (under a second for a
 * million rows), as PostgreSQL's guide to populating a database advises. The planner gets the new
 * rows' statistics, and the rows are marked visible to all at once, rather than by the first
 * lookups that read them (each such read wrote to the page it read: spread lookups at a million
 * were about a tenth slower right after an import) or by autovacuum a minute later, under load.
 * SQLite: nothing.
 */
export async function settleAfterImport(db: Executor): Promise<void> {
  if (isPostgres(db))
    await sql`vacuum (analyze) ${sql.join(IMPORTED_TABLES.map((table) => sql.id(table)))}`.execute(db);
}

const CUSTOMER_COLUMNS = ['id', 'email', 'name', 'name_search', 'metadata', 'created_at', 'updated_at'] as const;
const IDENTITY_COLUMNS = [
  'id',
  'customer_id',
  'channel',
  'external_id',
  'instance_id',
  'display_name',
  'role_override',
  'verified_at',
  'verified_via',
  'metadata',
  'created_at',
  'updated_at',
] as const;
const KEY_COLUMNS = ['channel', 'external_id', 'scope', 'identity_id', 'kind', 'created_at'] as const;

/**
 * Multi-row INSERTs compiled once per (dialect, table, row count): for a 500-row chunk Kysely
 * otherwise builds and compiles 5,500 value nodes, some 15 % of an import's time (measured).
 * Compiled from rows whose values are their own positions, and checked to be in that order.
 */
const compiledInserts = new Map<string, string>();

function insertSql(db: Executor, table: Table, columns: readonly string[], rows: number): string {
  const key = `${isPostgres(db) ? 'pg' : 'sqlite'}:${table}:${rows}`;
  const known = compiledInserts.get(key);
  if (known) return known;
  const positions = Array.from({ length: rows }, (_, r) =>
    Object.fromEntries(columns.map((column, c) => [column, r * columns.length + c])),
  );
  const compiled =
    table === 'customers'
      ? db
          .insertInto('customers')
          .values(positions as unknown as NewCustomerRow[])
          .compile()
      : table === 'identities'
        ? db
            .insertInto('identities')
            .values(positions as unknown as NewIdentityRow[])
            .compile()
        : db
            .insertInto('identity_keys')
            .values(positions as unknown as IdentityKeyTable[])
            .compile();
  if (compiled.parameters.some((p, i) => p !== i)) throw new Error(`unexpected parameter order in ${table} insert`);
  compiledInserts.set(key, compiled.sql);
  return compiled.sql;
}

async function insertRows<R extends object>(
  db: Executor,
  table: Table,
  columns: readonly (keyof R & string)[],
  rows: R[],
) {
  for (const chunk of chunks(rows, INSERT_ROWS)) {
    const parameters: unknown[] = [];
    for (const row of chunk) for (const column of columns) parameters.push(row[column] ?? null);
    await db.executeQuery(CompiledQuery.raw(insertSql(db, table, columns, chunk.length), parameters));
  }
}

export function insertCustomerRows(db: Executor, rows: NewCustomerRow[]) {
  return insertRows(db, 'customers', CUSTOMER_COLUMNS, rows);
}

export function insertIdentityRows(db: Executor, rows: NewIdentityRow[]) {
  return insertRows(db, 'identities', IDENTITY_COLUMNS, rows);
}

/** Aliases (identity_keys rows of kind 'alias'); the identities' own keys are written by the database's triggers. */
export function insertAliasRows(db: Executor, rows: Omit<IdentityKeyTable, 'kind'>[]) {
  return insertRows(
    db,
    'identity_keys',
    KEY_COLUMNS,
    rows.map((row) => ({ ...row, kind: 'alias' as const })),
  );
}

export async function existingEmails(db: Executor, emails: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const chunk of chunks(emails, IN_LIST)) {
    for (const row of await db.selectFrom('customers').select('email').where('email', 'in', chunk).execute()) {
      found.add(row.email);
    }
  }
  return found;
}

export async function existingIds(
  db: Executor,
  table: 'customers' | 'identities',
  ids: string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const chunk of chunks(ids, IN_LIST)) {
    for (const row of await db.selectFrom(table).select('id').where('id', 'in', chunk).execute()) found.add(row.id);
  }
  return found;
}

/** Identities already linked under any of these external ids or aliases of one channel (the unique index serves it). */
export async function identitiesOfChannel(db: Executor, channel: string, externalIds: string[]) {
  const rows: { external_id: string; instance_id: string | null }[] = [];
  for (const chunk of chunks(externalIds, IN_LIST)) {
    const found = await db
      .selectFrom('identity_keys')
      .select(['external_id', 'scope'])
      .where('channel', '=', channel)
      .where('external_id', 'in', chunk)
      .execute();
    rows.push(...found.map((r) => ({ external_id: r.external_id, instance_id: r.scope === '' ? null : r.scope })));
  }
  return rows;
}

/** Oldest first, by (created_at, id): a page of customers after a position. */
export function customersAfter(db: Executor, after: { at: string; id: string } | undefined, limit: number) {
  let q = db.selectFrom('customers').selectAll();
  if (after) {
    q = q.where((eb) =>
      eb.or([eb('created_at', '>', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '>', after.id)])]),
    );
  }
  return q.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(limit).execute() as Promise<CustomerRow[]>;
}

/** The identities of these customers, oldest first within each. */
export async function identitiesOfCustomers(db: Executor, customerIds: string[]): Promise<IdentityRow[]> {
  const rows: IdentityRow[] = [];
  for (const chunk of chunks(customerIds, IN_LIST)) {
    rows.push(
      ...(await db
        .selectFrom('identities')
        .selectAll()
        .where('customer_id', 'in', chunk)
        .orderBy('customer_id')
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute()),
    );
  }
  return rows;
}
