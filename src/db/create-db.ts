import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../config.js';
import type { Database, DialectName } from './database.js';

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** The PostgreSQL pool, for LISTEN/NOTIFY and pool metrics; undefined on SQLite. */
  pool: pg.Pool | undefined;
  /**
   * SQLite only: a number that changes when another connection (another process, such as the
   * command line) commits to the file; SQLite has no NOTIFY, so caches compare it before use.
   */
  dataVersion: (() => number) | undefined;
  destroy(): Promise<void>;
}

export interface CreateDbOptions {
  /** Maximum PostgreSQL connections of this process. */
  poolSize?: number;
  /** Called when an idle PostgreSQL client fails (the server went away); never crashes us. */
  onPoolError?: (error: Error) => void;
}

/** The one place where SQLite and PostgreSQL differ in how they are opened. */
export function createDb(target: DatabaseTarget, options: CreateDbOptions = {}): Db {
  if (target.kind === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    const sqlite = new SQLite(target.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Prepared once: it is read before every cached answer (the lookup's hot path).
    const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return {
      kysely,
      dialect: 'sqlite',
      pool: undefined,
      dataVersion: () => dataVersion.get() as number,
      destroy: () => kysely.destroy(),
    };
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    // A PostgreSQL that stops answering must not hang requests forever.
    query_timeout: 15_000,
  });
  pool.on('error', (error) => options.onPoolError?.(error));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    pool,
    dataVersion: undefined,
    destroy: () => kysely.destroy(),
  };
}
