import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, buildReplicas, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

// Concurrency through a real listening socket, so that requests truly overlap in the database.

let next = 900_000;
const telegramId = () => String(next++);

describe.each(DIALECTS)('races on $name', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { RATE_LIMIT_CLAIM_PER_IDENTITY: '1000', RATE_LIMIT_CLAIM_PER_KEY: '0' });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => t.close());

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const statuses = (results: { status: number }[]) => results.map((r) => r.status).sort();

  it('two concurrent links of one identity give one 201 and one 409, and one row', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const externalId = telegramId();
      const results = await Promise.all(
        [a, b].map((c) => post(`/v1/customers/${c.id}/identities`, { channel: 'telegram', external_id: externalId })),
      );
      expect(statuses(results)).toEqual([201, 409]);
      const rows = await t.app.services.db.kysely
        .selectFrom('identities')
        .select('id')
        .where('channel', '=', 'telegram')
        .where('external_id', '=', externalId)
        .execute();
      expect(rows).toHaveLength(1);
    }
  });

  it('eight concurrent links in one instance scope, spelled differently, give one 201', async () => {
    const customer = await createCustomer(t.app);
    const instance = randomUUID();
    const spellings = ['+1 (303) 555-0188', '+13035550188', ' +1 303 555 0188 ', '+1-303-555-0188'];
    const results = await Promise.all(
      [...spellings, ...spellings].map((external_id) =>
        post(`/v1/customers/${customer.id}/identities`, { channel: 'sms', external_id, instance_id: instance }),
      ),
    );
    expect(statuses(results)).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const winner = results.find((r) => r.status === 201)?.body as { id: string };
    for (const r of results.filter((r) => r.status === 409)) {
      expect(r.body).toEqual({
        detail: expect.any(String),
        conflict: { customer_id: customer.id, identity_id: winner.id },
      });
    }
    const list = await t.app.inject({ url: `/v1/customers/${customer.id}/identities`, headers: t.admin });
    expect(list.json()).toHaveLength(1);
  });

  it('concurrent creates of one email give one customer', async () => {
    const email = `race-${randomUUID()}@example.com`;
    const results = await Promise.all(
      [email, email.toUpperCase(), email, email.toUpperCase()].map((e) => post('/v1/customers', { email: e })),
    );
    expect(statuses(results)).toEqual([201, 409, 409, 409]);
  });

  it('16 concurrent redemptions of one code give exactly one 200', async () => {
    for (let round = 0; round < 2; round++) {
      const customer = await createCustomer(t.app);
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const results = await Promise.all(
        Array.from({ length: 16 }, () =>
          post('/v1/customers/identities/claim', { channel: 'telegram', external_id: identity.external_id, code }),
        ),
      );
      const ok = results.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      expect(ok[0]?.body).toMatchObject({ id: identity.id, verified: true, role_override: 'owner' });
      for (const r of results.filter((r) => r.status !== 200)) {
        expect(r).toEqual({ status: 400, body: { detail: 'Invalid or expired claim code' } });
      }
    }
  });
});

describe.each(DIALECTS)('races between two replicas on $name', (dialect) => {
  let replicas: FastifyInstance[] = [];
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ apps: replicas, close } = await buildReplicas(dialect));
  });
  afterAll(() => close());

  it('one identity linked through both replicas at once gives one 201 and one 409', async () => {
    const [a, b] = replicas as [FastifyInstance, FastifyInstance];
    const customer = await createCustomer(a);
    for (let round = 0; round < 5; round++) {
      const externalId = telegramId();
      const results = await Promise.all(
        [a, b].map((app) =>
          app.inject({
            method: 'POST',
            url: `/v1/customers/${customer.id}/identities`,
            headers: { 'x-api-key': ADMIN_KEY },
            payload: { channel: 'telegram', external_id: externalId },
          }),
        ),
      );
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    }
    const list = await b.inject({
      url: `/v1/customers/${customer.id}/identities`,
      headers: { 'x-api-key': ADMIN_KEY },
    });
    expect(list.json()).toHaveLength(5);
  });

  it('a code redeemed through both replicas at once succeeds once', async () => {
    const [a, b] = replicas as [FastifyInstance, FastifyInstance];
    const customer = await createCustomer(a);
    const identity = await createIdentity(a, customer.id, { channel: 'telegram', external_id: telegramId() });
    const { code } = await generateCode(a, customer.id, identity.id);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).inject({
          method: 'POST',
          url: '/v1/customers/identities/claim',
          headers: { 'x-api-key': ADMIN_KEY },
          payload: { channel: 'telegram', external_id: identity.external_id, code },
        }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
  });
});
