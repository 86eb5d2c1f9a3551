import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The databases every HTTP test runs against: SQLite in memory always, PostgreSQL whenever
 * TEST_DATABASE_URL is set (CI sets it, and CI fails when it is missing: see test/ci-guard.test.ts).
 */
export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty database for one test file or test; drop it with `dispose`. */
  create(): Promise<{ url: string; dispose(): Promise<void> }>;
}

export const sqlite: Dialect = {
  name: 'sqlite',
  create: async () => ({ url: 'sqlite::memory:', dispose: async () => undefined }),
};

export const postgresUrl = process.env.TEST_DATABASE_URL;

export const postgres: Dialect = {
  name: 'postgres',
  async create() {
    if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
    const name = `ids_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async dispose() {
        const c = new pg.Client({ connectionString: postgresUrl });
        await c.connect();
        try {
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await c.end();
        }
      },
    };
  },
};

export const DIALECTS: Dialect[] = postgresUrl ? [sqlite, postgres] : [sqlite];

/**
 * A fresh database that several apps or processes can share: a temporary file for SQLite (an
 * in-memory database is private to its connection), a scratch database for PostgreSQL.
 */
export async function createSharedDatabase(dialect: Dialect): Promise<{ url: string; dispose(): Promise<void> }> {
  if (dialect.name === 'postgres') return dialect.create();
  const dir = mkdtempSync(join(tmpdir(), 'ids-shared-'));
  return {
    url: `sqlite:${join(dir, 'identity.db')}`,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
