import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type ChildServer, kill, startServer } from '../hardening/support/child-server.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { runCli } from '../helpers/cli.js';

/** `identity-service backup ...args` from the sources; never throws, so exit codes can be checked. */
const backup = (databaseUrl: string, ...args: string[]) =>
  runCli(['backup', ...args], { DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });

describe('identity-service backup on SQLite, while the server writes', () => {
  let dir: string;
  let server: ChildServer;
  let databaseUrl: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-backup-'));
    databaseUrl = `sqlite:${join(dir, 'live.db')}`;
    server = await startServer({ DATABASE_URL: databaseUrl, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'warn' });
  }, 60_000);
  afterAll(async () => {
    if (server) await kill(server, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a consistent copy that holds every customer acknowledged before it began', async () => {
    const acknowledged: string[] = [];
    let writing = true;
    let failures = 0;
    // Four clients creating customers as fast as the server takes them, all through the backup.
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; writing; i++) {
        const email = `backup-${w}-${i}@example.com`;
        const response = await fetch(`${server.url}/v1/customers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
          body: JSON.stringify({ email, name: `Writer ${w}`, metadata: { pad: 'x'.repeat(2_000) } }),
        });
        if (response.status === 201) acknowledged.push(email);
        else failures++;
      }
    });
    while (acknowledged.length < 200) await new Promise((resolve) => setTimeout(resolve, 20));
    const before = [...acknowledged];
    const file = join(dir, 'copy.db');
    const result = await backup(databaseUrl, file);
    writing = false;
    await Promise.all(writers);
    expect(failures).toBe(0);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Backed up .* to .*copy\.db: \d+ pages, \d+ bytes/);
    // The server went on writing meanwhile.
    expect(acknowledged.length).toBeGreaterThan(before.length);

    const copy = new SQLite(file, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      // One self-contained file: no WAL to carry along.
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      const emails = new Set(
        copy
          .prepare('SELECT email FROM customers')
          .pluck()
          .all()
          .map((e) => String(e)),
      );
      for (const email of before) expect(emails.has(email), email).toBe(true);
      // Nothing but what the server acknowledged (every write of the run was).
      const all = new Set(acknowledged);
      expect([...emails].filter((e) => !all.has(e))).toEqual([]);
    } finally {
      copy.close();
    }

    // The copy is a database the service opens as it is.
    const app = await buildApp(loadConfig({ DATABASE_URL: `sqlite:${file}`, BOOTSTRAP_API_KEY: ADMIN_KEY }), {
      logger: false,
    });
    try {
      const found = await app.inject({
        url: `/v1/customers?email=${encodeURIComponent(before[0] as string)}`,
        headers: { 'x-api-key': ADMIN_KEY },
      });
      expect(found.json().items).toHaveLength(1);
    } finally {
      await app.close();
    }
  }, 120_000);

  it('refuses to replace an existing file without --force, and replaces it with --force', async () => {
    const file = join(dir, 'existing.db');
    writeFileSync(file, 'not a database, but mine');
    const refused = await backup(databaseUrl, file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists; pass --force/);
    expect(readFileSync(file, 'utf8')).toBe('not a database, but mine');

    const forced = await backup(databaseUrl, file, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    const copy = new SQLite(file, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      copy.close();
    }
    // No partial copy is left next to it.
    expect(existsSync(join(dir, `.existing.db.${process.pid}.partial`))).toBe(false);
  }, 60_000);

  it('says so when there is no database to copy, and writes nothing', async () => {
    const missing = await backup(`sqlite:${join(dir, 'nowhere.db')}`, join(dir, 'never.db'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no database at .*nowhere\.db/);
    expect(existsSync(join(dir, 'never.db'))).toBe(false);
    expect(existsSync(join(dir, 'nowhere.db'))).toBe(false);
  }, 60_000);
});

describe('identity-service backup on PostgreSQL', () => {
  it('points to pg_dump, exits non-zero and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ids-backup-pg-'));
    try {
      // No connection is made: the command knows from DATABASE_URL alone.
      const result = await backup('postgres://postgres@127.0.0.1:1/none', join(dir, 'copy.db'));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/SQLite databases only; DATABASE_URL is PostgreSQL: use pg_dump/);
      expect(existsSync(join(dir, 'copy.db'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
