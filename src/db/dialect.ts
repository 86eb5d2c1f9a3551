import { PostgresAdapter, type SelectQueryBuilder, sql } from 'kysely';
import type { Executor } from './database.js';

// The few places where SQLite and PostgreSQL need different SQL, each behind one helper.

export const isPostgres = (db: Executor) => db.getExecutor().adapter instanceof PostgresAdapter;

/** Row lock for read-modify-write on PostgreSQL; SQLite has one writer, so nothing to do. */
export function forUpdate<DB, TB extends keyof DB, O>(
  db: Executor,
  query: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return isPostgres(db) ? query.forUpdate() : query;
}

/**
 * Substring match of text both sides have folded alike (lowercased by the caller), with LIKE
 * wildcards in the needle taken literally. No lower() in SQL: SQLite's knows only ASCII.
 */
export function containsText(column: string, needle: string) {
  const escaped = needle.replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql<boolean>`${sql.ref(column)} like ${`%${escaped}%`} escape '\\'`;
}

/** Publishes a change to the other replicas; delivered by PostgreSQL only when the transaction commits. */
export async function notifyOnCommit(db: Executor, channel: string, payload: string) {
  if (isPostgres(db)) await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/**
 * PostgreSQL only: the rows (a, b) of two text arrays of one length, bound as parameters, as the
 * relation `alias(columns)`: many keys in one statement, for a lateral join.
 */
export function textPairs(first: unknown, second: unknown, alias: string, columns: readonly [string, string]) {
  return sql`unnest(${first}::text[], ${second}::text[]) as ${sql.id(alias)}(${sql.id(columns[0])}, ${sql.id(columns[1])})`;
}
