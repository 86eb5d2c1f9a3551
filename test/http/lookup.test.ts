import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, buildReplicas, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

let next = 500_000;
const telegramId = () => String(next++);

describe.each(DIALECTS)('reverse lookup on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  const lookup = (query: Record<string, string>) =>
    t.app.inject({ url: `/v1/customers/lookup/identity?${new URLSearchParams(query)}`, headers: t.admin });

  it("answers with exactly the seed's body", async () => {
    const customer = await createCustomer(t.app, { email: `Steve-${randomUUID()}@Acme.com` });
    const externalId = telegramId();
    const identity = await createIdentity(t.app, customer.id, {
      channel: 'telegram',
      external_id: externalId,
      display_name: 'Steve',
    });
    const response = await lookup({ channel: 'telegram', external_id: externalId });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      channel: 'telegram',
      customer_email: customer.email,
      customer_id: customer.id,
      display_name: 'Steve',
      external_id: externalId,
      identity_id: identity.id,
      role_override: null,
      verified: false,
      verified_via: null,
    });
    expect(customer.email).toBe(customer.email.toLowerCase());
  });

  it('normalizes the query like the create', async () => {
    const customer = await createCustomer(t.app);
    const phone = await createIdentity(t.app, customer.id, { channel: 'whatsapp', external_id: '+14155552671' });
    const slack = await createIdentity(t.app, customer.id, { channel: 'slack', external_id: 'U0LOOKUP1' });
    const email = await createIdentity(t.app, customer.id, { channel: 'email', external_id: 'steve@lookup.test' });
    const cases: [Record<string, string>, string][] = [
      [{ channel: ' WhatsApp ', external_id: '+1 (415) 555-2671' }, phone.id],
      [{ channel: 'slack', external_id: ' u0lookup1 ' }, slack.id],
      [{ channel: 'EMAIL', external_id: 'Steve@Lookup.TEST' }, email.id],
    ];
    for (const [query, id] of cases) {
      const response = await lookup(query);
      expect(response.statusCode, JSON.stringify(query)).toBe(200);
      expect(response.json().identity_id).toBe(id);
    }
  });

  describe('instance scope', () => {
    it('prefers the identity scoped to the instance, else the unscoped one', async () => {
      const everywhere = await createCustomer(t.app);
      const inShop = await createCustomer(t.app);
      const externalId = telegramId();
      const shop = randomUUID();
      await createIdentity(t.app, everywhere.id, { channel: 'telegram', external_id: externalId });
      await createIdentity(t.app, inShop.id, { channel: 'telegram', external_id: externalId, instance_id: shop });

      const scoped = await lookup({ channel: 'telegram', external_id: externalId, instance_id: shop });
      expect(scoped.json().customer_id).toBe(inShop.id);
      const otherInstance = await lookup({ channel: 'telegram', external_id: externalId, instance_id: randomUUID() });
      expect(otherInstance.json().customer_id).toBe(everywhere.id);
      const unscoped = await lookup({ channel: 'telegram', external_id: externalId });
      expect(unscoped.json().customer_id).toBe(everywhere.id);
    });

    it('answers every scope of an identity linked in more instances than the cache keeps (32)', async () => {
      const everywhere = await createCustomer(t.app);
      const externalId = telegramId();
      await createIdentity(t.app, everywhere.id, { channel: 'telegram', external_id: externalId });
      const scopes: { instance: string; customer: string }[] = [];
      for (let i = 0; i < 40; i++) {
        const customer = await createCustomer(t.app);
        const instance = randomUUID();
        await createIdentity(t.app, customer.id, {
          channel: 'telegram',
          external_id: externalId,
          instance_id: instance,
        });
        scopes.push({ instance, customer: customer.id });
      }
      for (const round of ['first', 'again']) {
        for (const { instance, customer } of scopes) {
          const response = await lookup({ channel: 'telegram', external_id: externalId, instance_id: instance });
          expect(response.statusCode, `${round} ${instance}`).toBe(200);
          expect(response.json().customer_id, `${round} ${instance}`).toBe(customer);
        }
        const unscoped = await lookup({ channel: 'telegram', external_id: externalId, instance_id: randomUUID() });
        expect(unscoped.json().customer_id).toBe(everywhere.id);
        expect((await lookup({ channel: 'telegram', external_id: externalId })).json().customer_id).toBe(everywhere.id);
      }
    });

    it('answers a scoped identity from the cache as from the database, and as JSON', async () => {
      const customer = await createCustomer(t.app);
      const externalId = telegramId();
      const shop = randomUUID();
      await createIdentity(t.app, customer.id, {
        channel: 'telegram',
        external_id: externalId,
        instance_id: shop,
        display_name: 'Zoë "quoted" \\ name',
      });
      const first = await lookup({ channel: 'telegram', external_id: externalId, instance_id: shop });
      const second = await lookup({ channel: 'telegram', external_id: externalId, instance_id: shop });
      expect(first.statusCode).toBe(200);
      expect(second.body).toBe(first.body);
      expect(second.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(second.json().display_name).toBe('Zoë "quoted" \\ name');
    });

    it('finds a scoped-only identity only with its instance_id', async () => {
      const customer = await createCustomer(t.app);
      const externalId = telegramId();
      const shop = randomUUID();
      await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId, instance_id: shop });
      expect((await lookup({ channel: 'telegram', external_id: externalId })).statusCode).toBe(404);
      const other = await lookup({ channel: 'telegram', external_id: externalId, instance_id: randomUUID() });
      expect(other.statusCode).toBe(404);
      const found = await lookup({ channel: 'telegram', external_id: externalId, instance_id: shop.toUpperCase() });
      expect(found.statusCode).toBe(200);
      expect(found.json().customer_id).toBe(customer.id);
    });
  });

  it('answers 404 when nobody owns the identity', async () => {
    const response = await lookup({ channel: 'telegram', external_id: telegramId() });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: expect.any(String) });
  });

  it('follows changes: verification, the customer email, deletion', async () => {
    const customer = await createCustomer(t.app);
    const externalId = telegramId();
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    const query = { channel: 'telegram', external_id: externalId };
    expect((await lookup(query)).json().verified).toBe(false);

    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers: t.admin,
      payload: { verified: true, role_override: 'owner' },
    });
    expect((await lookup(query)).json()).toMatchObject({ verified: true, role_override: 'owner' });

    const email = `renamed-${randomUUID()}@example.com`;
    await t.app.inject({ method: 'PATCH', url: `/v1/customers/${customer.id}`, headers: t.admin, payload: { email } });
    expect((await lookup(query)).json().customer_email).toBe(email);

    await t.app.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers: t.admin });
    expect((await lookup(query)).statusCode).toBe(404);
  });

  it('a miss is not remembered once the identity is linked', async () => {
    const externalId = telegramId();
    const query = { channel: 'telegram', external_id: externalId };
    expect((await lookup(query)).statusCode).toBe(404);
    const customer = await createCustomer(t.app);
    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    expect((await lookup(query)).statusCode).toBe(200);
  });

  describe('422', () => {
    it.each([
      ['channel', { external_id: '1' }],
      ['external_id', { channel: 'telegram' }],
    ])('answers missing at [query, %s]', async (field, query) => {
      const response = await lookup(query as Record<string, string>);
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({
        detail: [expect.objectContaining({ loc: ['query', field], msg: 'Field required', type: 'missing' })],
      });
    });

    it('answers string_pattern_mismatch for a bad channel and value_error for a bad telegram id', async () => {
      const channel = await lookup({ channel: '#tg', external_id: '1' });
      expect(channel.statusCode).toBe(422);
      expect(channel.json().detail[0]).toMatchObject({ loc: ['query', 'channel'], type: 'string_pattern_mismatch' });
      const id = await lookup({ channel: 'telegram', external_id: 'steve' });
      expect(id.statusCode).toBe(422);
      expect(id.json().detail[0]).toMatchObject({ loc: ['query', 'external_id'], type: 'value_error' });
    });

    it('answers uuid_parsing for a malformed instance_id', async () => {
      const response = await lookup({ channel: 'telegram', external_id: '1', instance_id: 'shop-1' });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['query', 'instance_id'], type: 'uuid_parsing' });
    });
  });
});

describe.each(DIALECTS)('reverse lookup across two replicas on $name', (dialect) => {
  let replicas: FastifyInstance[] = [];
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ apps: replicas, close } = await buildReplicas(dialect));
  });
  afterAll(() => close());

  it("sees the other replica's changes, not its own cached answer", async () => {
    const [a, b] = replicas as [FastifyInstance, FastifyInstance];
    const headers = { 'x-api-key': ADMIN_KEY };
    const url = '/v1/customers/lookup/identity?channel=telegram&external_id=2468';
    // PostgreSQL tells the other replica through NOTIFY, which takes a moment; SQLite at once.
    const eventually = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < (dialect.name === 'sqlite' ? 1 : 40); i++) {
        if (await check()) return true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    };

    expect((await a.inject({ url, headers })).statusCode).toBe(404);
    const customer = await createCustomer(b);
    const identity = await createIdentity(b, customer.id, { channel: 'telegram', external_id: '2468' });
    expect(await eventually(async () => (await a.inject({ url, headers })).statusCode === 200)).toBe(true);

    await b.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers,
      payload: { verified: true },
    });
    expect(await eventually(async () => (await a.inject({ url, headers })).json().verified === true)).toBe(true);

    await b.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers });
    expect(await eventually(async () => (await a.inject({ url, headers })).statusCode === 404)).toBe(true);
  });
});
