import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type DatabaseConnection,
  type Driver,
  Kysely,
  type MigrationLockOptions,
  PostgresAdapter,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
  sql,
} from 'kysely';
import type pg from 'pg';
import type { DatabaseTarget } from '../config.js';
import type { Database, DialectName } from './database.js';
import { pgModule } from './pg-module.js';

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** The PostgreSQL pool, for LISTEN/NOTIFY and pool metrics; undefined on SQLite. */
  pool: pg.Pool | undefined;
  /**
   * PostgreSQL: the lookups' own connections (namedQuery), whose statements have the lookup's
   * shorter bound (DB_LOOKUP_TIMEOUT_MS); undefined on SQLite.
   */
  lookupPool: pg.Pool | undefined;
  /**
   * SQLite only: a number that changes when another connection (another process, such as the
   * command line) commits to the file; SQLite has no NOTIFY, so caches compare it before use.
   */
  dataVersion: (() => number) | undefined;
  /**
   * SQLite files only: runs one read statement on a read-only connection of its own, at once.
   * The lookup's hot path: it skips Kysely's executor (20 µs a query, measured) and never waits
   * behind a write transaction, whose uncommitted rows it cannot see (WAL: committed data only).
   */
  readQuery: (<R>(sql: string, parameters: readonly unknown[]) => R[]) | undefined;
  /**
   * SQLite: from now on, wait no more than a moment for another process's lock. SQLite waits
   * inside the call, which blocks the event loop, and so every lookup with it (an import from the
   * command line holds the write lock for a batch at a time): a server's writes fail at once with
   * SQLITE_BUSY instead, and the unit of work tries again between other requests (unit-of-work.ts).
   * Opened with the long wait, so that migrations at start wait for an import's batch.
   */
  shortenLockWaits(): void;
  /**
   * PostgreSQL only: runs a read statement as a named prepared statement (pg's `name`): each
   * connection parses and plans it once, then only binds and executes it.
   */
  namedQuery: (<R>(name: string, sql: string, parameters: readonly unknown[]) => Promise<R[]>) | undefined;
  /**
   * SQLite files only: copies the WAL into the database file and truncates it to nothing, so that
   * the old versions of pages it held (an erased person's, say) leave the disk. Waits briefly
   * for readers that still use the WAL; true when the WAL was truncated.
   */
  truncateWal: (() => Promise<boolean>) | undefined;
  destroy(): Promise<void>;
}

export interface CreateDbOptions {
  /** Maximum PostgreSQL connections of this process, for lookups and for the rest each. */
  poolSize?: number;
  /**
   * PostgreSQL: lock_timeout and statement_timeout in ms (0 or absent: none), of the lookups'
   * connections and of the others. Migrations run without them.
   */
  timeouts?: { lookupMs: number; otherMs: number };
  /** Called when an idle PostgreSQL client fails (the server went away); never crashes us. */
  onPoolError?: (error: Error) => void;
}

/**
 * A PostgreSQL that stops answering at all must not hang requests forever: the client gives up
 * this long after the server's own bound (statement_timeout) would have.
 */
const CLIENT_TIMEOUT_MARGIN_MS = 10_000;
const MIN_CLIENT_TIMEOUT_MS = 15_000;
const LOCK_SHARE_OF_TIMEOUT = 0.9;

/** How long a connection waits for another connection's lock: the command line, and every process at start. */
const LONG_LOCK_WAIT_MS = 5_000;
/** A serving process's reads: a WAL reader waits only in rare moments (another connection recovering the WAL). */
const SERVING_READ_WAIT_MS = 50;

const ignoreError = () => undefined;
/** How often, and how far apart, a WAL truncation is tried while readers still use the WAL. */
const WAL_TRUNCATE_ATTEMPTS = 50;
const WAL_TRUNCATE_PAUSE_MS = 20;

/** Distinct SQL texts whose prepared statements are kept (a multi-row INSERT of n rows is one text per n). */
const STATEMENTS_KEPT = 256;

/**
 * Kysely asks better-sqlite3 to prepare every query anew, which costs as much as running a lookup
 * by its index; this keeps the last few hundred statements by SQL text, least recently used
 * out first. Safe because better-sqlite3 runs a statement to completion before the next call
 * (nothing here streams rows with `iterate`, which would keep one busy).
 */
function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const kept = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = kept.get(sql);
      if (statement) {
        kept.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (kept.size >= STATEMENTS_KEPT) kept.delete(kept.keys().next().value as string);
      }
      kept.set(sql, statement);
      return statement;
    },
  };
}

/**
 * On SQLITE_FULL (and some I/O errors) SQLite rolls the transaction back by itself; Kysely's
 * ROLLBACK after it then fails with "cannot rollback - no transaction is active", and that error
 * replaces the real one. So ROLLBACK is sent only while a transaction is open.
 */
class SqliteDialectKeepingErrors extends SqliteDialect {
  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly database = reusingStatements(sqlite),
  ) {
    super({ database });
  }
  override createDriver(): Driver {
    const sqlite = this.sqlite;
    return new (class extends SqliteDriver {
      override async rollbackTransaction(connection: DatabaseConnection) {
        if (sqlite.inTransaction) await super.rollbackTransaction(connection);
      }
    })({ database: this.database });
  }
}

/**
 * Migrations may wait for each other (replicas starting at once) and take long (an index on a
 * large table): the session's statement bounds are lifted while they hold the migration lock.
 */
class UnboundedMigrationsAdapter extends PostgresAdapter {
  override async acquireMigrationLock(db: Kysely<unknown>, options: MigrationLockOptions) {
    await sql`set lock_timeout = 0; set statement_timeout = 0`.execute(db);
    await super.acquireMigrationLock(db, options);
  }
  override async releaseMigrationLock(db: Kysely<unknown>, options: MigrationLockOptions) {
    await super.releaseMigrationLock(db, options);
    // Back to the connection's own bounds, set when it was opened.
    await sql`reset lock_timeout; reset statement_timeout`.execute(db);
  }
}

class PostgresDialectWithUnboundedMigrations extends PostgresDialect {
  override createAdapter() {
    return new UnboundedMigrationsAdapter();
  }
}

function openPool(url: string, max: number, timeoutMs: number, onError: (error: Error) => void): pg.Pool {
  const pool = new (pgModule().Pool)({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5_000,
    // Sent when each connection opens: no round trip per statement. 0 leaves the server's default.
    // A wait for a lock gives up a little before the statement's own bound would, so that the
    // error (and the answer, and the metric) names the lock as the cause.
    lock_timeout: Math.ceil(timeoutMs * LOCK_SHARE_OF_TIMEOUT),
    statement_timeout: timeoutMs,
    query_timeout: Math.max(MIN_CLIENT_TIMEOUT_MS, timeoutMs + CLIENT_TIMEOUT_MARGIN_MS),
  });
  pool.on('error', onError);
  // pg-pool listens for a client's errors only while it is idle in the pool: one checked out
  // (by Kysely, for a statement or a whole transaction) whose server goes away between two
  // statements emits 'error' to nobody, which ends the process. The error needs no handling here:
  // the statement waiting on the client fails with it, or the next one does ("not queryable"),
  // and the pool drops the client when it comes back.
  pool.on('connect', (client) => client.on('error', ignoreError));
  return pool;
}

function openReader(path: string) {
  const reader = new SQLite(path, { readonly: true });
  reader.pragma(`busy_timeout = ${LONG_LOCK_WAIT_MS}`);
  const statements = reusingStatements(reader);
  return {
    query: <R>(sql: string, parameters: readonly unknown[]) => statements.prepare(sql).all(parameters) as R[],
    shortenLockWait: () => reader.pragma(`busy_timeout = ${SERVING_READ_WAIT_MS}`),
    close: () => reader.close(),
  };
}

/** One TRUNCATE checkpoint; false when another connection's lock or read kept it from finishing. */
function checkpointed(sqlite: SQLite.Database): boolean {
  try {
    const [result] = sqlite.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return result?.busy === 0;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return false;
    throw error;
  }
}

/** The one place where SQLite and PostgreSQL differ in how they are opened. */
export function createDb(target: DatabaseTarget, options: CreateDbOptions = {}): Db {
  if (target.kind === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    const sqlite = new SQLite(target.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${LONG_LOCK_WAIT_MS}`);
    // Deleted content is overwritten with zeros, so that an erased person's values do not linger
    // in free pages and free space within pages (docs/privacy.md). Inserts free nothing, so the
    // import pays nothing for it (measured: see docs/privacy.md).
    sqlite.pragma('secure_delete = ON');
    // Prepared once: it is read before every cached answer (the lookup's hot path).
    const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
    const kysely = new Kysely<Database>({ dialect: new SqliteDialectKeepingErrors(sqlite) });
    // An in-memory database is private to its connection: no second one can read it.
    const reader = target.path === ':memory:' ? undefined : openReader(target.path);
    return {
      kysely,
      dialect: 'sqlite',
      pool: undefined,
      lookupPool: undefined,
      dataVersion: () => dataVersion.get() as number,
      readQuery: reader?.query,
      shortenLockWaits: () => {
        sqlite.pragma('busy_timeout = 0');
        reader?.shortenLockWait();
      },
      namedQuery: undefined,
      truncateWal:
        target.path === ':memory:'
          ? undefined
          : async () => {
              for (let attempt = 0; attempt < WAL_TRUNCATE_ATTEMPTS; attempt++) {
                if (checkpointed(sqlite)) return true;
                await new Promise((resolve) => setTimeout(resolve, WAL_TRUNCATE_PAUSE_MS));
              }
              return false;
            },
      destroy: async () => {
        reader?.close();
        await kysely.destroy();
      },
    };
  }
  const max = options.poolSize ?? 10;
  const onError = (error: Error) => options.onPoolError?.(error);
  const pool = openPool(target.url, max, options.timeouts?.otherMs ?? 0, onError);
  // The lookups' own connections, for their shorter bound: set when a connection opens, it costs
  // nothing per lookup (a SET per statement would be a round trip). Opened on first use.
  const lookupPool = openPool(target.url, max, options.timeouts?.lookupMs ?? 0, onError);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialectWithUnboundedMigrations({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    pool,
    lookupPool,
    dataVersion: undefined,
    readQuery: undefined,
    // PostgreSQL locks rows, not the database: nothing to shorten.
    shortenLockWaits: () => undefined,
    truncateWal: undefined,
    namedQuery: async <R>(name: string, sql: string, parameters: readonly unknown[]) =>
      (await lookupPool.query({ name, text: sql, values: [...parameters] })).rows as R[],
    destroy: async () => {
      await kysely.destroy();
      await lookupPool.end();
    },
  };
}
