import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, buildReplicas, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey } from '../helpers/factories.js';

// Concurrency through a real listening socket, so that requests truly overlap in the database.

let next = 4_200_000;
const telegramId = () => String(next++);

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const statuses = (results: Answer[]) => results.map((r) => r.status).sort();

describe.each(DIALECTS)('link request races on $name', (dialect) => {
  let t: TestApp;
  let base: string;
  let runtimeKey: string;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { RATE_LIMIT_CLAIM_PER_KEY: '0', LINK_REQUESTS_MAX_PENDING: '100000' });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    runtimeKey = (await createKey(t.app, 'runtime')).key;
  });
  afterAll(() => t.close());

  const post = async (path: string, body: unknown, key = ADMIN_KEY): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const issue = async (externalId = telegramId()) => {
    const made = await post('/v1/link-requests', { channel: 'telegram', external_id: externalId });
    expect(made.status).toBe(201);
    return made.body as { id: string; code: string; external_id: string };
  };
  const identitiesOf = (externalId: string) =>
    t.app.services.db.kysely
      .selectFrom('identities')
      .select(['id', 'customer_id'])
      .where('channel', '=', 'telegram')
      .where('external_id', '=', externalId)
      .execute();

  it('two redemptions of one code at once: exactly one 200, the other the 400', async () => {
    for (let round = 0; round < 5; round++) {
      const request = await issue();
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const results = await Promise.all(
        [a, b].map((c) => post('/v1/link-requests/redeem', { code: request.code, customer_id: c.id })),
      );
      expect(statuses(results)).toEqual([200, 400]);
      expect(results.find((r) => r.status === 400)?.body).toEqual({ detail: 'Invalid or expired link code' });
      const rows = await identitiesOf(request.external_id);
      expect(rows).toHaveLength(1);
      const winner = results.find((r) => r.status === 200)?.body as { identity: { customer_id: string } };
      expect(rows[0]?.customer_id).toBe(winner.identity.customer_id);
    }
  });

  it('a redemption, an approval and a self-service link of one request at once: one wins', async () => {
    for (let round = 0; round < 3; round++) {
      const request = await issue();
      const a = await createCustomer(t.app);
      const owner = await createCustomer(t.app);
      const sender = await createIdentity(t.app, owner.id, { channel: 'telegram', external_id: telegramId() });
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${owner.id}/identities/${sender.id}`,
        headers: t.admin,
        payload: { verified: true },
      });
      const results = await Promise.all([
        post('/v1/link-requests/redeem', { code: request.code, customer_id: a.id }),
        post(`/v1/link-requests/${request.id}/approve`, { customer_id: a.id }),
        post(
          '/v1/customers/identities/link',
          { channel: 'telegram', external_id: sender.external_id, code: request.code },
          runtimeKey,
        ),
      ]);
      expect(results.filter((r) => r.status === 200 || r.status === 201)).toHaveLength(1);
      expect(await identitiesOf(request.external_id)).toHaveLength(1);
    }
  });

  it('a redemption racing a direct link of the account: one wins, the other is a 409 with conflict', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 6; round++) {
      const request = await issue();
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const [redeemed, linked] = await Promise.all([
        post('/v1/link-requests/redeem', { code: request.code, customer_id: a.id }),
        post(`/v1/customers/${b.id}/identities`, { channel: 'telegram', external_id: request.external_id }),
      ]);
      const rows = await identitiesOf(request.external_id);
      expect(rows).toHaveLength(1);
      const row = rows[0] as { id: string; customer_id: string };
      const loser = redeemed.status === 200 ? linked : redeemed;
      expect([redeemed.status, linked.status].sort()).toEqual(redeemed.status === 200 ? [200, 409] : [201, 409]);
      expect(loser.body).toEqual({
        detail: 'This channel identity is already linked to a customer',
        conflict: { customer_id: row.customer_id, identity_id: row.id },
      });
      outcomes.add(redeemed.status === 200 ? 'redeem' : 'link');
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('concurrent first requests of one account: one 201, the rest 200 with the same id', async () => {
    const externalId = telegramId();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => post('/v1/link-requests', { channel: 'telegram', external_id: externalId })),
    );
    expect(statuses(results)).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const rows = await t.app.services.db.kysely
      .selectFrom('link_requests')
      .select('status')
      .where('external_id', '=', externalId)
      .execute();
    expect(rows).toEqual([{ status: 'pending' }]);
    // Only the code given last is live: exactly one of them redeems.
    const customer = await createCustomer(t.app);
    const redeemed = [];
    for (const r of results) {
      redeemed.push(await post('/v1/link-requests/redeem', { code: r.body.code, customer_id: customer.id }));
    }
    expect(redeemed.filter((r) => r.status === 200)).toHaveLength(1);
  });
});

describe.each(DIALECTS)('the pending cap under concurrency on $name', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { LINK_REQUESTS_MAX_PENDING: '3' });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => t.close());

  it('eight accounts at once with three places: three 201, five 429', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await fetch(`${base}/v1/link-requests`, {
          method: 'POST',
          headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'telegram', external_id: telegramId() }),
        });
        return response.status;
      }),
    );
    expect(results.sort()).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
  });
});

describe.each(DIALECTS)('link requests across two replicas on $name', (dialect) => {
  let replicas: Awaited<ReturnType<typeof buildReplicas>>;
  beforeAll(async () => {
    replicas = await buildReplicas(dialect, 2);
  });
  afterAll(() => replicas.close());

  it('a request made on one is redeemed on the other, and the first one’s lookup follows at once', async () => {
    const [one, two] = replicas.apps as [(typeof replicas.apps)[0], (typeof replicas.apps)[0]];
    const headers = { 'x-api-key': ADMIN_KEY };
    const externalId = telegramId();
    const lookup = () =>
      one.inject({ url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`, headers });
    // A miss, now in replica one's cache.
    expect((await lookup()).statusCode).toBe(404);
    const made = await one.inject({
      method: 'POST',
      url: '/v1/link-requests',
      headers,
      payload: { channel: 'telegram', external_id: externalId },
    });
    const customer = await createCustomer(two);
    const redeemed = await two.inject({
      method: 'POST',
      url: '/v1/link-requests/redeem',
      headers,
      payload: { code: made.json().code, customer_id: customer.id },
    });
    expect(redeemed.statusCode).toBe(200);
    // Replica one hears of it by NOTIFY (PostgreSQL) or SQLite's data_version: well within a second.
    const deadline = Date.now() + 2000;
    let answer = await lookup();
    while (answer.statusCode !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await lookup();
    }
    expect(answer.json()).toMatchObject({ customer_id: customer.id, verified_via: 'link_request' });
    const seen = await one.inject({ url: `/v1/link-requests/${made.json().id}`, headers });
    expect(seen.json().status).toBe('approved');
  });
});

describe('the self-service limit is shared by replicas through Redis', () => {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `ids-test-${randomUUID()}:`;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { REDIS_URL: redisUrl, RATE_LIMIT_REDIS_PREFIX: prefix };
    a = await buildTestApp(DIALECTS[0] as (typeof DIALECTS)[0], env);
    b = await buildTestApp(DIALECTS[0] as (typeof DIALECTS)[0], env);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('failures on one replica count on the other', async () => {
    const sender = { channel: 'telegram', external_id: telegramId() };
    const attempt = (t: TestApp, code: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/customers/identities/link',
        headers: t.admin,
        payload: { ...sender, code },
      });
    for (let i = 0; i < 3; i++) expect((await attempt(a, 'AAAAAAAA')).statusCode).toBe(400);
    for (let i = 0; i < 2; i++) expect((await attempt(b, 'AAAAAAAA')).statusCode).toBe(400);
    expect((await attempt(a, 'AAAAAAAA')).statusCode).toBe(429);
    expect((await attempt(b, 'AAAAAAAA')).statusCode).toBe(429);
  });
});
