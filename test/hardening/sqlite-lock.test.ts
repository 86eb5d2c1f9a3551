import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { createSharedDatabase, sqlite } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';
import { holdWriteLock } from '../helpers/sqlite-lock.js';

// Issue 18, item 15: another process (the command line's import) holding SQLite's write lock
// froze the whole server for up to 5 s, because the server's write waited for it inside
// better-sqlite3's synchronous call. The server must go on answering lookups, answer a write that
// cannot get the lock with 503 and Retry-After, and the import must let the server's writes in.

const headers = { 'x-api-key': ADMIN_KEY };

/** A server on a fresh SQLite file that other processes (a worker, the command line) open too. */
async function serverOnSharedFile() {
  const { url, dispose } = await createSharedDatabase(sqlite);
  const app = await buildApp(
    loadConfig({ DATABASE_URL: url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', SQLITE_WRITE_WAIT_MS: '1500' }),
    { logger: false },
  );
  await app.ready();
  return { app, url, dispose };
}

describe('a server on SQLite while another process holds the write lock', () => {
  let app: FastifyInstance;
  let url: string;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ app, url, dispose } = await serverOnSharedFile());
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  it('answers lookups while the lock is held, and a write with 503 and Retry-After, changing nothing', async () => {
    const customer = await createCustomer(app);
    const ids = ['1815001', '1815002', '1815003'];
    for (const id of ids) await createIdentity(app, customer.id, { channel: 'telegram', external_id: id });
    const lookup = (id: string) =>
      app.inject({ url: `/v1/customers/lookup/identity?channel=telegram&external_id=${id}`, headers });

    const lock = await holdWriteLock(url.slice('sqlite:'.length), 4_000);
    try {
      let writeDone = false;
      const write = app
        .inject({ method: 'POST', url: '/v1/customers', headers, payload: { email: 'during-lock@example.com' } })
        .finally(() => {
          writeDone = true;
        });
      // Lookups never read before (no cache): each goes to the database, while the write waits.
      for (const id of [...ids, '1815999']) {
        const response = await lookup(id);
        expect(response.statusCode, id).toBe(id === '1815999' ? 404 : 200);
        expect(lock.held()).toBe(true);
        expect(writeDone, 'the lookup waited for the write').toBe(false);
      }
      expect((await app.inject({ url: `/v1/customers/${customer.id}`, headers })).statusCode).toBe(200);

      const refused = await write;
      expect(lock.held(), 'answered only once the other process let go').toBe(true);
      expect(refused.statusCode, refused.body).toBe(503);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.json()).toEqual({ detail: expect.any(String) });
    } finally {
      await lock.release();
    }
    const listed = await app.inject({ url: '/v1/customers?email=during-lock@example.com', headers });
    expect(listed.json().items).toEqual([]);
    const after = await app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers,
      payload: { email: 'after-lock@example.com' },
    });
    expect(after.statusCode).toBe(201);
  }, 30_000);
});

describe('a server on SQLite while the command line imports into the same file', () => {
  let app: FastifyInstance;
  let url: string;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ app, url, dispose } = await serverOnSharedFile());
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  it("gets its writes in between the import's batches", async () => {
    const customers = 8_000;
    const cli: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/hardening/support/import-from-memory.ts', String(customers)],
      { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let exited = false;
    const exit = once(cli, 'exit').then(([code]) => {
      exited = true;
      return code as number;
    });
    const count = async () =>
      Number(
        (
          await app.services.db.kysely
            .selectFrom('customers')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    // Wait until the import is writing.
    while ((await count()) < 1_000 && !exited) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(exited, 'the import ended before the test could write beside it').toBe(false);

    const statuses: number[] = [];
    let whileImporting = 0;
    for (let i = 0; i < 10; i++) {
      const created = await app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers,
        payload: { email: `beside-import-${i}@example.com` },
      });
      statuses.push(created.statusCode);
      if (!exited) whileImporting++;
    }
    expect(await exit).toBe(0);
    expect(statuses).toEqual(Array(10).fill(201));
    expect(whileImporting, 'the import ended before the writes went in').toBeGreaterThanOrEqual(5);
    expect(await count()).toBe(customers + 10);
  }, 120_000);
});
