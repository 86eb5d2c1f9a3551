import { DomainError, RetryLaterError } from '../internal/errors.js';

/**
 * What a database error means to the domain; everything else is rethrown as is. `retry`: the
 * transaction lost a race it may win if run again (PostgreSQL's serialization failure or deadlock;
 * SQLite's lock held by another connection, or a snapshot gone stale while waiting for it).
 * `lock_timeout` / `statement_timeout`: PostgreSQL gave up on a statement at the bound the
 * service set (DB_*_TIMEOUT_MS), most often because another session (a migration, a VACUUM FULL,
 * a transaction left open) holds a lock it needs. `disk_full`: the database could not grow.
 */
export type DbErrorKind =
  | 'unique'
  | 'foreign_key'
  | 'unavailable'
  | 'retry'
  | 'lock_timeout'
  | 'statement_timeout'
  | 'disk_full';

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
  if (code === '55P03') return 'lock_timeout';
  // Also an administrator's pg_cancel_backend: the same answer, try again.
  if (code === '57014') return 'statement_timeout';
  if (code === '53100' || code === 'SQLITE_FULL') return 'disk_full';
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

/** Seconds a client is asked to wait after a statement timed out: the lock is usually brief. */
const TIMEOUT_RETRY_SECONDS = 2;
/** After a full disk: space is rarely freed within seconds. */
const DISK_FULL_RETRY_SECONDS = 30;

/**
 * A database error the service answers 503 for and that an operator must see: its `cause` (the
 * database's own error) is what the error handler logs.
 */
export class DatabaseFaultError extends RetryLaterError {
  constructor(
    detail: string,
    retryAfterSeconds: number,
    readonly kind: 'lock_timeout' | 'statement_timeout' | 'disk_full',
    override readonly cause: unknown,
  ) {
    super(detail, retryAfterSeconds);
    this.name = 'DatabaseFaultError';
  }
}

/**
 * This process's database faults since start, for /metrics and /readyz. Kept here, where every
 * database error is mapped, rather than at each of the many call sites; one count per process,
 * whichever of its apps (tests build several) met it.
 */
export const databaseFaults = {
  lock_timeout: 0,
  statement_timeout: 0,
  disk_full: 0,
  /** performance.now() of the last disk-full error, until a write succeeds again. */
  diskFullAt: undefined as number | undefined,
};

/**
 * How long after a disk-full error /readyz says not ready, unless a write succeeds sooner: not
 * for ever, since a replica that gets no traffic (not ready) would never try a write again.
 */
const DISK_FULL_NOT_READY_MS = 30_000;

/** Whether the last write that met a full disk is recent and no write has succeeded since. */
export function diskFullRecently(now = performance.now()): boolean {
  const at = databaseFaults.diskFullAt;
  return at !== undefined && now - at < DISK_FULL_NOT_READY_MS;
}

/** A write committed: the disk has room again (see databaseFaults.diskFullAt). */
export function noteWriteSucceeded() {
  databaseFaults.diskFullAt = undefined;
}

function databaseFault(kind: 'lock_timeout' | 'statement_timeout' | 'disk_full', cause: unknown) {
  databaseFaults[kind]++;
  if (kind === 'disk_full') {
    databaseFaults.diskFullAt = performance.now();
    return new DatabaseFaultError(
      "The database's disk is full: nothing was written; try again once space is freed",
      DISK_FULL_RETRY_SECONDS,
      kind,
      cause,
    );
  }
  return new DatabaseFaultError(
    kind === 'lock_timeout'
      ? 'The database is busy: another session holds a lock this request needs (a migration, a VACUUM FULL, a long transaction); nothing was written; try again shortly'
      : 'The database took too long to answer; nothing was written; try again shortly',
    TIMEOUT_RETRY_SECONDS,
    kind,
    cause,
  );
}

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
  if (kind === 'lock_timeout' || kind === 'statement_timeout' || kind === 'disk_full')
    return databaseFault(kind, error);
  const mapped = kind ? on[kind] : undefined;
  return mapped ? mapped() : error;
}
