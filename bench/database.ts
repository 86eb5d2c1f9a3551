import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface BenchDatabase {
  url: string;
  kind: 'sqlite' | 'postgres';
  /** Where the seed file and such go. */
  dir: string;
  dispose(): Promise<void>;
}

/**
 * A fresh database for one run: a temp SQLite file, or a scratch database on the given
 * PostgreSQL server (never the named database itself: seeding would collide with its data).
 */
export async function createBenchDatabase(postgresUrl: string | undefined): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'identity-bench-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  if (!postgresUrl) {
    return { url: `sqlite:${join(dir, 'bench.db')}`, kind: 'sqlite', dir, dispose: async () => removeDir() };
  }
  const name = `identity_bench_${randomBytes(5).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: 'postgres',
    dir,
    async dispose() {
      removeDir();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
