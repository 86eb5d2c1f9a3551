import { DomainError, RetryLaterError } from '../internal/errors.js';

/**
 * What a database error means to the domain; everything else is rethrown as is. `retry`: the
 * transaction lost a race it may win if run again (PostgreSQL's serialization failure or deadlock;
 * SQLite's lock held by another connection, or a snapshot gone stale while waiting for it).
 */
export type DbErrorKind = 'unique' | 'foreign_key' | 'unavailable' | 'retry';

const PG_RETRY = new Set(['40001', '40P01']);

const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

export function classifyDbError(error: unknown): DbErrorKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  const message = (error as { message?: unknown }).message;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return 'unique';
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
  if (typeof code === 'string' && (PG_UNAVAILABLE.has(code) || NET_UNAVAILABLE.has(code))) {
    return 'unavailable';
  }
  if (typeof code === 'string' && (PG_RETRY.has(code) || /^SQLITE_(BUSY|LOCKED)/.test(code))) return 'retry';
  if (code === 'SQLITE_IOERR') return 'unavailable';
  if (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
      message,
    )
  ) {
    return 'unavailable';
  }
  return undefined;
}

export const databaseUnavailable = () =>
  new DomainError('unavailable', 'The database is unavailable; try again shortly');

/** A change that lost a race with another writer, and its retry too. */
export const databaseBusy = () => new RetryLaterError('The database is busy with another change; try again shortly', 1);

/**
 * Runs a database call and turns constraint violations into the domain errors the caller names,
 * and a lost database into 503. The one place that knows both dialects' error codes.
 */
export async function mapDbError<T>(
  work: () => Promise<T>,
  on: Partial<Record<'unique' | 'foreign_key', () => DomainError>> = {},
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw mappedDbError(error, on);
  }
}

/** What `mapDbError` throws for `error`: for a database call made synchronously (SQLite reads). */
export function mappedDbError(
  error: unknown,
  on: Partial<Record<'unique' | 'foreign_key', () => DomainError>> = {},
): unknown {
  const kind = classifyDbError(error);
  if (kind === 'unavailable') return databaseUnavailable();
  if (kind === 'retry') return databaseBusy();
  const mapped = kind ? on[kind] : undefined;
  return mapped ? mapped() : error;
}
