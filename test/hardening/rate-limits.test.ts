import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS, sqlite } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey, generateCode } from '../helpers/factories.js';

const LIMITS = {
  RATE_LIMIT_CLAIM_PER_IDENTITY: '3',
  RATE_LIMIT_CLAIM_PER_KEY: '8',
  RATE_LIMIT_AUTH_FAILURES_PER_IP: '4',
};

type Injectable = TestApp['app'];

const claim = (app: Injectable, key: string, body: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/v1/customers/identities/claim', headers: { 'x-api-key': key }, payload: body });

function expectTooMany(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) {
  expect(response.statusCode).toBe(429);
  expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  const body = response.json() as { detail: unknown };
  expect(typeof body.detail).toBe('string');
}

describe.each(DIALECTS)('rate limits on $name', (dialect) => {
  let t: TestApp;
  let runtime: string;
  beforeAll(async () => {
    t = await buildTestApp(dialect, LIMITS);
    runtime = (await createKey(t.app, 'runtime')).key;
  });
  afterAll(() => t.close());

  it('limits failed redemptions per sender, and a refused sender still cannot claim with the right code', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '7001' });
    const sender = { channel: 'telegram', external_id: '7001' };
    for (let i = 0; i < 3; i++) {
      const wrong = await claim(t.app, runtime, { ...sender, code: 'ZZZZZZ' });
      expect(wrong.statusCode).toBe(400);
    }
    const { code } = await generateCode(t.app, customer.id, identity.id);
    const refused = await claim(t.app, runtime, { ...sender, code });
    expectTooMany(refused);
    // The same person as seen after normalization (spaces, case) is the same counter.
    expectTooMany(await claim(t.app, runtime, { channel: ' Telegram ', external_id: ' 7001', code }));
    const lookup = await t.app.inject({
      url: '/v1/customers/lookup/identity?channel=telegram&external_id=7001',
      headers: t.admin,
    });
    expect(lookup.json()).toMatchObject({ verified: false });
  });

  it('does not count successful claims: honest users never use up the budget', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'slack', external_id: 'U0HONEST' });
    for (let i = 0; i < 2; i++) {
      expect(
        (await claim(t.app, runtime, { channel: 'slack', external_id: 'U0HONEST', code: 'WRONG2' })).statusCode,
      ).toBe(400);
    }
    // Five successes in a row after two failures, with a limit of three failures: none is refused.
    for (let i = 0; i < 5; i++) {
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        headers: t.admin,
        payload: { verified: false },
      });
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const ok = await claim(t.app, runtime, { channel: 'slack', external_id: 'U0HONEST', code });
      expect(ok.statusCode).toBe(200);
    }
  });

  it('limits failed redemptions per API key across many senders', async () => {
    const key = (await createKey(t.app, 'runtime', 'guesser')).key;
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await claim(t.app, key, {
        channel: 'telegram',
        external_id: String(80_000 + i),
        code: 'ABCDEF',
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) expectTooMany(response);
    }
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(400));
    expect(statuses.slice(8)).toEqual(Array(4).fill(429));
    // Another key is not affected.
    expect(
      (await claim(t.app, runtime, { channel: 'telegram', external_id: '99999', code: 'ABCDEF' })).statusCode,
    ).toBe(400);
  });

  it("a refused sender's attempts do not spend the key's budget", async () => {
    const key = (await createKey(t.app, 'runtime', 'one-sender')).key;
    for (let i = 0; i < 20; i++)
      await claim(t.app, key, { channel: 'telegram', external_id: '123123', code: 'ABCDEF' });
    // 3 counted failures of that sender, 17 refusals that compared nothing: 5 left for others.
    for (let i = 0; i < 5; i++) {
      const other = await claim(t.app, key, { channel: 'telegram', external_id: String(90_000 + i), code: 'ABCDEF' });
      expect(other.statusCode).toBe(400);
    }
    expectTooMany(await claim(t.app, key, { channel: 'telegram', external_id: '90010', code: 'ABCDEF' }));
  });

  it('limits failed authentications per client address, and only that address', async () => {
    const attacker = '203.0.113.7';
    for (let i = 0; i < 4; i++) {
      const response = await t.app.inject({
        url: '/v1/customers',
        headers: { 'x-api-key': `wrong-${i}` },
        remoteAddress: attacker,
      });
      expect(response.statusCode).toBe(401);
    }
    const refused = await t.app.inject({
      url: '/v1/customers',
      headers: { 'x-api-key': 'wrong' },
      remoteAddress: attacker,
    });
    expectTooMany(refused);
    expectTooMany(await t.app.inject({ url: '/v1/customers', remoteAddress: attacker }));
    // A valid key is never refused for its address's failures: the runtime behind a shared
    // address (a NAT, a proxy) is not locked out by whoever fails next to it.
    expect((await t.app.inject({ url: '/v1/customers', headers: t.admin, remoteAddress: attacker })).statusCode).toBe(
      200,
    );
    expectTooMany(refused);
    expectTooMany(
      await t.app.inject({ url: '/v1/customers', headers: { 'x-api-key': 'wrong' }, remoteAddress: attacker }),
    );
    const elsewhere = await t.app.inject({ url: '/v1/customers', headers: t.admin, remoteAddress: '198.51.100.9' });
    expect(elsewhere.statusCode).toBe(200);
    // Routes without a key are never refused.
    expect((await t.app.inject({ url: '/healthz', remoteAddress: attacker })).statusCode).toBe(200);
  });

  it('does not throttle lookups by default', async () => {
    const customer = await createCustomer(t.app);
    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '4242' });
    for (let i = 0; i < 300; i++) {
      const response = await t.app.inject({
        url: '/v1/customers/lookup/identity?channel=telegram&external_id=4242',
        headers: { 'x-api-key': runtime },
      });
      expect(response.statusCode).toBe(200);
    }
  });
});

describe('per-key lookup limit (RATE_LIMIT_LOOKUP_PER_KEY)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(sqlite, { RATE_LIMIT_LOOKUP_PER_KEY: '5' });
  });
  afterAll(() => t.close());

  it('refuses the lookup after the limit, per key', async () => {
    const a = (await createKey(t.app, 'runtime', 'a')).key;
    const b = (await createKey(t.app, 'runtime', 'b')).key;
    const lookup = (key: string) =>
      t.app.inject({
        url: '/v1/customers/lookup/identity?channel=telegram&external_id=1',
        headers: { 'x-api-key': key },
      });
    for (let i = 0; i < 5; i++) expect((await lookup(a)).statusCode).toBe(404);
    expectTooMany(await lookup(a));
    expect((await lookup(b)).statusCode).toBe(404);
    // Other routes of the same key are not limited.
    expect((await t.app.inject({ url: '/v1/customers', headers: { 'x-api-key': a } })).statusCode).toBe(200);
  });
});

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('with REDIS_URL: counters shared by replicas', () => {
  const prefix = `ids-test-${randomUUID()}:`;
  let one: TestApp;
  let two: TestApp;
  beforeAll(async () => {
    const env = { ...LIMITS, REDIS_URL: redisUrl, RATE_LIMIT_REDIS_PREFIX: prefix };
    one = await buildTestApp(sqlite, env);
    two = await buildTestApp(sqlite, env);
  });
  afterAll(async () => {
    await one.close();
    await two.close();
  });

  it('uses the Redis store', () => {
    expect(one.app.services.counters.kind).toBe('redis');
  });

  it('counts one sender across both replicas', async () => {
    // Each replica has its own database, so the keys differ; the sender's counter is shared.
    const k1 = (await createKey(one.app, 'runtime')).key;
    const k2 = (await createKey(two.app, 'runtime')).key;
    const sender = { channel: 'telegram', external_id: '5551', code: 'ABCDEF' };
    expect((await claim(one.app, k1, sender)).statusCode).toBe(400);
    expect((await claim(two.app, k2, sender)).statusCode).toBe(400);
    expect((await claim(one.app, k1, sender)).statusCode).toBe(400);
    expectTooMany(await claim(two.app, k2, sender));
    expectTooMany(await claim(one.app, k1, sender));
  });

  it('counts failed authentications of one address across both replicas', async () => {
    const ip = '192.0.2.77';
    const fail = (app: Injectable) =>
      app.inject({ url: '/v1/customers', headers: { 'x-api-key': 'nope' }, remoteAddress: ip });
    expect((await fail(one.app)).statusCode).toBe(401);
    expect((await fail(two.app)).statusCode).toBe(401);
    expect((await fail(one.app)).statusCode).toBe(401);
    expect((await fail(two.app)).statusCode).toBe(401);
    // The fourth failure (on replica two) reached the limit there; replica one learns at its next failure.
    expectTooMany(await fail(two.app));
    expect((await fail(one.app)).statusCode).toBe(401);
    expectTooMany(await fail(one.app));
  });
});

/** A port nothing listens on: listen on 0, note it, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('when Redis is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(sqlite, { ...LIMITS, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
  });
  afterAll(() => t.close());

  it('fails closed for claims (503), open for everything else', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '31337' });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    const response = await claim(t.app, ADMIN_KEY, { channel: 'telegram', external_id: '31337', code });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ detail: expect.any(String) });
    const lookup = await t.app.inject({
      url: '/v1/customers/lookup/identity?channel=telegram&external_id=31337',
      headers: t.admin,
    });
    expect(lookup.json()).toMatchObject({ verified: false });
    // A failed authentication is still a plain 401: the counter is lost, the key check stands.
    const bad = await t.app.inject({ url: '/v1/customers', headers: { 'x-api-key': 'nope' } });
    expect(bad.statusCode).toBe(401);
  }, 20_000);
});

describe('behind a reverse proxy (TRUST_PROXY)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(sqlite, { ...LIMITS, TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(() => t.close());

  it("counts failures against the client's forwarded address, not the proxy's", async () => {
    const viaProxy = (client: string, key: string) =>
      t.app.inject({
        url: '/v1/customers',
        headers: { 'x-api-key': key, 'x-forwarded-for': client },
        remoteAddress: '127.0.0.1',
      });
    for (let i = 0; i < 4; i++) expect((await viaProxy('203.0.113.50', 'wrong')).statusCode).toBe(401);
    expectTooMany(await viaProxy('203.0.113.50', 'wrong'));
    expect((await viaProxy('203.0.113.50', ADMIN_KEY)).statusCode).toBe(200);
    // Another client behind the same proxy is not affected.
    expect((await viaProxy('203.0.113.51', 'wrong')).statusCode).toBe(401);
    // A forwarded header from an untrusted peer is ignored: that peer's own address counts.
    for (let i = 0; i < 4; i++) {
      await t.app.inject({
        url: '/v1/customers',
        headers: { 'x-api-key': 'wrong', 'x-forwarded-for': `198.51.100.${i}` },
        remoteAddress: '192.0.2.200',
      });
    }
    expectTooMany(
      await t.app.inject({
        url: '/v1/customers',
        headers: { 'x-api-key': 'wrong', 'x-forwarded-for': '198.51.100.99' },
        remoteAddress: '192.0.2.200',
      }),
    );
  });
});

describe('TRUST_PROXY at start', () => {
  const load = (value: string) => loadConfig({ DATABASE_URL: 'sqlite::memory:', TRUST_PROXY: value });

  it('refuses true and hop counts, which let any client write its own address, with a clear message', () => {
    for (const value of ['true', 'TRUE', '1', '2', ' 3 ']) {
      expect(() => load(value)).toThrow(ConfigError);
      expect(() => load(value)).toThrow(/X-Forwarded-For.*addresses or CIDRs/);
    }
  });

  it('refuses anything in the list that is not an address or a CIDR', () => {
    for (const value of ['proxy.internal', '10.0.0.0/33', '10.0.0.1,nope', '::1/129', '10.0.0.0/8/8']) {
      expect(() => load(value)).toThrow(/TRUST_PROXY: not an IP address or CIDR/);
    }
  });

  it('accepts false and lists of addresses, CIDRs and ranges', () => {
    expect(load('false').trustProxy).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).trustProxy).toBe(false);
    expect(load('10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback').trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
  });
});
