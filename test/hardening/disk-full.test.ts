import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, REDACTED } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';

const headers = { 'x-api-key': ADMIN_KEY };

/**
 * The database's disk fills up. On SQLite, `max_page_count` makes the database unable to grow:
 * SQLite answers SQLITE_FULL and rolls the transaction back by itself, as on a full file system.
 * On PostgreSQL (whose disk this test cannot fill) a trigger raises the error PostgreSQL raises
 * when it cannot extend a file, with its code 53100 (disk_full).
 */
const fill = {
  sqlite: {
    full: (app: FastifyInstance) => sql`pragma max_page_count = 1`.execute(app.services.db.kysely),
    freed: (app: FastifyInstance) => sql`pragma max_page_count = 1073741823`.execute(app.services.db.kysely),
    logged: /SQLITE_FULL/,
  },
  postgres: {
    full: async (app: FastifyInstance) => {
      await sql`create function disk_full() returns trigger language plpgsql as $$
        begin raise exception 'could not extend file "base/1/2": No space left on device' using errcode = 'disk_full'; end $$`.execute(
        app.services.db.kysely,
      );
      await sql`create trigger disk_full before insert or update on customers for each row execute function disk_full()`.execute(
        app.services.db.kysely,
      );
    },
    freed: (app: FastifyInstance) => sql`drop trigger disk_full on customers`.execute(app.services.db.kysely),
    logged: /No space left on device/,
  },
};

describe.each(DIALECTS)('a full disk on $name', (dialect) => {
  let app: FastifyInstance;
  let dispose: () => Promise<void>;
  const log = { text: '' };

  beforeAll(async () => {
    const database = await dialect.create();
    dispose = database.dispose;
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      log.text += chunk.toString('utf8');
    });
    const config = loadConfig({ DATABASE_URL: database.url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'info' });
    app = await buildApp(config, {
      logger: { level: 'info', stream, redact: { paths: REDACTED, censor: '[redacted]' } },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  const create = (i: number) =>
    app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers,
      payload: { email: `full-${i}@example.com`, metadata: { filler: 'x'.repeat(3000) } },
    });
  const metric = async () => {
    const text = (await app.inject({ url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith('db_disk_full_errors_total '));
    return Number(line?.split(' ')[1] ?? 0);
  };

  it('answers 503 that says so, logs the real error, is not ready until a write succeeds, loses nothing', async () => {
    const acknowledged: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await create(i);
      expect(response.statusCode).toBe(201);
      acknowledged.push(response.json<{ id: string }>().id);
    }
    const countedBefore = await metric();
    await fill[dialect.name].full(app);

    // Until the pages the database has are used up, writes still fit.
    let refused: Awaited<ReturnType<typeof create>> | undefined;
    for (let i = 3; i < 200 && !refused; i++) {
      const response = await create(i);
      if (response.statusCode === 201) acknowledged.push(response.json<{ id: string }>().id);
      else refused = response;
    }
    expect(refused?.statusCode, refused?.body).toBe(503);
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused?.json()).toEqual({ detail: expect.stringMatching(/disk is full/) });
    expect(log.text).toMatch(fill[dialect.name].logged);
    expect(log.text).toMatch(/"msg":"the database's disk is full"/);
    expect(log.text).not.toMatch(/cannot rollback/);
    expect(await metric()).toBeGreaterThan(countedBefore);

    const notReady = await app.inject({ url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ detail: expect.stringMatching(/disk is full/) });
    // Reads go on.
    expect((await app.inject({ url: `/v1/customers/${acknowledged[0]}`, headers })).statusCode).toBe(200);

    await fill[dialect.name].freed(app);
    // Still not ready: nothing has shown that the disk has room.
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    const after = await create(1000);
    expect(after.statusCode, after.body).toBe(201);
    acknowledged.push(after.json<{ id: string }>().id);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);

    for (const id of acknowledged) {
      expect((await app.inject({ url: `/v1/customers/${id}`, headers })).statusCode).toBe(200);
    }
  });
});
