import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { decodeChanges, encodeChanges, NOTIFY_CHANNEL } from '../../src/features/changes/changes.js';
import { ADMIN_KEY, buildReplicas } from '../helpers/build-app.js';
import { DIALECTS, postgres, postgresUrl } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

const headers = { 'x-api-key': ADMIN_KEY };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, tries = 100) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

/** The value of one sample in Prometheus' text format, or undefined when it is not there. */
async function metric(app: FastifyInstance, sample: string): Promise<number | undefined> {
  const text = (await app.inject({ url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('change notices: encoding (issue 18, items 1 and 7)', () => {
  it('measures the payload in bytes: past 7,000 bytes of UTF-8 it becomes a reset notice', () => {
    // 11 × 255 CJK characters: 2,805 UTF-16 units, but 8,415 bytes, past PostgreSQL's 8,000.
    const identities: [string, string][] = Array.from({ length: 11 }, (_, i) => ['custom', `${i}`.padEnd(255, '漢')]);
    const payload = encodeChanges('origin', { identities, apiKeyHashes: [] });
    expect(Buffer.byteLength(payload)).toBeLessThan(8_000);
    expect(decodeChanges(payload)).toEqual({
      origin: 'origin',
      changes: { identities: [], apiKeyHashes: [], reset: true },
    });
    const small = encodeChanges('origin', { identities: identities.slice(0, 2), apiKeyHashes: ['h'] });
    expect(decodeChanges(small)?.changes).toEqual({
      identities: identities.slice(0, 2),
      apiKeyHashes: ['h'],
      reset: false,
    });
  });

  it('refuses every payload that is not the shape replicas send, without throwing', () => {
    const strays = [
      '{"o":"x","i":5}',
      'not json',
      '',
      'null',
      '[]',
      '"text"',
      '{"i":[]}',
      '{"o":5}',
      '{"o":"x","i":[["telegram"]]}',
      '{"o":"x","i":[[1,2]]}',
      '{"o":"x","i":[["a","b","c"]]}',
      '{"o":"x","k":[5]}',
      '{"o":"x","k":"hash"}',
      '{"o":"x","r":"yes"}',
      '{"o":"x","i":{"length":1,"0":["a","b"]}}',
    ];
    for (const payload of strays) expect(decodeChanges(payload), payload).toBeUndefined();
    expect(decodeChanges('{"o":"x","i":[["telegram","1"]],"k":[],"future":1}')?.changes.identities).toEqual([
      ['telegram', '1'],
    ]);
  });
});

describe.each(DIALECTS)(
  'a customer with 11 identities of 255 CJK characters on $name (issue 18, item 7)',
  (dialect) => {
    let replicas: FastifyInstance[] = [];
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ apps: replicas, close } = await buildReplicas(dialect));
    });
    afterAll(() => close());

    it('can be deleted, and the other replica forgets its identities', async () => {
      const [a, b] = replicas as [FastifyInstance, FastifyInstance];
      const customer = await createCustomer(a);
      const ids = Array.from({ length: 11 }, (_, i) => `${String.fromCharCode(0x4e00 + i)}`.padEnd(255, '漢'));
      for (const id of ids) await createIdentity(a, customer.id, { channel: 'custom', external_id: id });
      const lookup = (app: FastifyInstance) =>
        app.inject({
          url: `/v1/customers/lookup/identity?${new URLSearchParams({ channel: 'custom', external_id: ids[10] ?? '' })}`,
          headers,
        });
      expect((await lookup(b)).statusCode).toBe(200);

      const deleted = await a.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers });
      expect(deleted.statusCode, deleted.body).toBe(204);
      expect((await a.inject({ url: `/v1/customers/${customer.id}`, headers })).statusCode).toBe(404);
      expect((await lookup(a)).statusCode).toBe(404);
      // On PostgreSQL the other replica hears a reset notice (the list was too big to send).
      expect(await eventually(async () => (await lookup(b)).statusCode === 404)).toBe(true);
    });
  },
);

describe.runIf(postgresUrl)('stray NOTIFY on PostgreSQL (issue 18, item 1)', () => {
  let app: FastifyInstance;
  let url: string;
  let dispose: () => Promise<void>;
  const logs = new PassThrough();
  const warnings: { msg: string; bytes?: number }[] = [];
  logs.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) warnings.push(JSON.parse(line));
  });

  beforeAll(async () => {
    const database = await postgres.create();
    url = database.url;
    dispose = database.dispose;
    const config = loadConfig({ DATABASE_URL: url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'warn' });
    app = await buildApp(config, { logger: { level: 'warn', stream: logs } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  it('drops and counts payloads of the wrong shape, and keeps following real ones', async () => {
    const customer = await createCustomer(app);
    await createIdentity(app, customer.id, { channel: 'telegram', external_id: '180001', display_name: 'Before' });
    const lookup = async () =>
      (await app.inject({ url: '/v1/customers/lookup/identity?channel=telegram&external_id=180001', headers })).json()
        .display_name as string;
    expect(await lookup()).toBe('Before');

    // Any role that can connect may do this, a read-only one too.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const strays = ['{"o":"x","i":5}', 'not json', '{"o":"x","k":[5]}', '{"o":"x","i":[[1,2]]}', 'null'];
      for (const payload of strays) await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, payload]);
      expect(
        await eventually(async () => (await metric(app, 'change_notifications_total{result="dropped"}')) === 5),
      ).toBe(true);
      expect(warnings.filter((w) => w.msg === 'dropped a change notification of unknown shape')).toHaveLength(5);

      // A change made behind the service's back, announced the way another replica would.
      await client.query(`UPDATE identities SET display_name = 'After' WHERE external_id = '180001'`);
      expect(await lookup()).toBe('Before');
      await client.query('SELECT pg_notify($1, $2)', [
        NOTIFY_CHANNEL,
        JSON.stringify({ o: 'another-replica', i: [['telegram', '180001']], k: [] }),
      ]);
      expect(await eventually(async () => (await lookup()) === 'After')).toBe(true);
      expect(await metric(app, 'change_notifications_total{result="applied"}')).toBe(1);
      expect((await app.inject({ url: '/readyz' })).json()).toEqual({
        status: 'ready',
        database: 'postgres',
        change_listener: 'connected',
      });
    } finally {
      await client.end();
    }
  });
});
