import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, REDACTED } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey, generateCode } from '../helpers/factories.js';

/** The value of one sample in Prometheus' text format, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string | number> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe.each(DIALECTS)('/metrics on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('counts requests per route template and status, cache hits and misses, and claim outcomes', async () => {
    const runtime = (await createKey(t.app, 'runtime')).key;
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '555' });
    const lookup = (id: string) =>
      t.app.inject({
        url: `/v1/customers/lookup/identity?channel=telegram&external_id=${id}`,
        headers: { 'x-api-key': runtime },
      });
    for (let i = 0; i < 3; i++) expect((await lookup('555')).statusCode).toBe(200);
    expect((await lookup('556')).statusCode).toBe(404);
    const claim = (code: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/customers/identities/claim',
        headers: { 'x-api-key': runtime },
        payload: { channel: 'telegram', external_id: '555', code },
      });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    expect((await claim(code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA')).statusCode).toBe(400);
    expect((await claim(code)).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/no/such/path/12345' })).statusCode).toBe(404);

    const response = await t.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    const route = '/v1/customers/lookup/identity';
    expect(sample(text, 'http_requests_total', { method: 'GET', route, status: 200 })).toBe(3);
    expect(sample(text, 'http_requests_total', { method: 'GET', route, status: 404 })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route, status: 200 })).toBe(3);
    expect(sample(text, 'http_requests_total', { route: '/v1/customers', status: 201 })).toBe(1);
    // Paths never become labels: ids and unknown paths would explode the series.
    expect(text).not.toContain(customer.id);
    expect(text).not.toContain('/no/such/path');
    // The first lookup of each sender misses, later ones hit.
    expect(sample(text, 'lookup_cache_requests_total', { result: 'hit' })).toBe(2);
    expect(sample(text, 'lookup_cache_requests_total', { result: 'miss' })).toBe(2);
    expect(sample(text, 'claim_redemptions_total', { outcome: 'succeeded' })).toBe(1);
    expect(sample(text, 'claim_redemptions_total', { outcome: 'failed' })).toBe(1);
    expect(sample(text, 'claim_redemptions_total', { outcome: 'rate_limited' })).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    if (dialect.name === 'postgres') {
      expect(sample(text, 'db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'db_pool_connections', { state: 'waiting' })).toBe(0);
    } else {
      expect(text).not.toContain('db_pool_connections');
    }
  });

  it('puts a request id on every response, and keeps a sane one the client sent', async () => {
    const a = await t.app.inject({ url: '/healthz' });
    const b = await t.app.inject({ url: '/v1/customers' });
    const c = await t.app.inject({ url: '/nowhere' });
    const ids = [a, b, c].map((r) => r.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
    const given = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers['x-request-id']).toBe('trace-abc.123');
    // Anything else (a log-injection attempt) is replaced.
    const hostile = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\nlevel=fatal' } });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('logs', () => {
  let app: FastifyInstance;
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) {
          raw.push(line);
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const config = loadConfig({ DATABASE_URL: 'sqlite::memory:', BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'trace' });
    app = await buildApp(config, {
      logger: { level: 'trace', stream, redact: { paths: REDACTED, censor: '[redacted]' } },
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('carry the request id on every line of a request, and never a key or a code', async () => {
    const admin = { 'x-api-key': ADMIN_KEY };
    const created = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: admin,
      payload: { name: 'bot', scope: 'runtime' },
    });
    const runtimeKey = created.json().key as string;
    const customer = (
      await app.inject({ method: 'POST', url: '/v1/customers', headers: admin, payload: { email: 'log@example.com' } })
    ).json();
    const identity = (
      await app.inject({
        method: 'POST',
        url: `/v1/customers/${customer.id}/identities`,
        headers: admin,
        payload: { channel: 'telegram', external_id: '4040' },
      })
    ).json();
    const code = (
      await app.inject({
        method: 'POST',
        url: `/v1/customers/${customer.id}/identities/${identity.id}/claim-code`,
        headers: admin,
      })
    ).json().code as string;
    const responses = [
      await app.inject({ url: '/v1/customers', headers: { 'x-api-key': 'idsk_wrong_key_value_1234567890' } }),
      await app.inject({ url: '/v1/customers', headers: { authorization: 'Bearer sekret-bearer-token' } }),
      await app.inject({
        method: 'POST',
        url: '/v1/customers/identities/claim',
        headers: { 'x-api-key': runtimeKey },
        payload: { channel: 'telegram', external_id: '4040', code },
      }),
    ];
    const requestLines = lines.filter((l) => l.msg === 'request');
    expect(requestLines.length).toBeGreaterThanOrEqual(7);
    for (const line of requestLines) expect(line.reqId).toEqual(expect.any(String));
    for (const response of responses) {
      const id = response.headers['x-request-id'];
      expect(requestLines.some((l) => l.reqId === id)).toBe(true);
    }
    // Any line logged during a request carries its id: every line but the start-up ones has one.
    for (const line of lines.filter((l) => 'route' in l)) expect(line.reqId).toBeDefined();
    const all = raw.join('\n');
    for (const secret of [ADMIN_KEY, runtimeKey, code, 'idsk_wrong_key_value', 'sekret-bearer-token']) {
      expect(all).not.toContain(secret);
    }
  });

  it('redact the key, authorization and code wherever a line would carry them', () => {
    app.log.info(
      {
        req: { headers: { 'x-api-key': 'leak-1', authorization: 'leak-2' } },
        headers: { 'x-api-key': 'leak-3' },
        body: { code: 'leak-4', key: 'leak-5' },
        code: 'leak-6',
        key: 'leak-7',
      },
      'probe',
    );
    const probe = raw.find((l) => l.includes('"probe"')) ?? '';
    expect(probe).toContain('[redacted]');
    expect(probe).not.toMatch(/leak-\d/);
  });
});
