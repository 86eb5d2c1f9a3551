import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

let seq = 0;
const telegramId = () => String(700_000_000 + Math.floor(Math.random() * 1_000_000) * 100 + (seq++ % 100));
const beyond = (total: number, limit: number) =>
  `The customer would have ${total} identities; at most ${limit} are allowed (MAX_IDENTITIES_PER_CUSTOMER)`;

describe.each(DIALECTS)('MAX_IDENTITIES_PER_CUSTOMER on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { MAX_IDENTITIES_PER_CUSTOMER: '3' });
  });
  afterAll(() => t.close());

  const post = (url: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url: `/v1${url}`, headers: t.admin, payload: payload as object });
  const idsOf = async (customerId: string) =>
    (await t.app.inject({ url: `/v1/customers/${customerId}/identities`, headers: t.admin }))
      .json<{ id: string }[]>()
      .map((i) => i.id);
  const fill = async (customerId: string, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push((await createIdentity(t.app, customerId, { channel: 'telegram', external_id: telegramId() })).id);
    }
    return ids;
  };

  it('refuses a link beyond the limit with a 409 that says so, and links nothing', async () => {
    const customer = await createCustomer(t.app);
    await fill(customer.id, 3);
    const externalId = telegramId();
    const refused = await post(`/customers/${customer.id}/identities`, {
      channel: 'telegram',
      external_id: externalId,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ detail: beyond(4, 3) });
    expect(await idsOf(customer.id)).toHaveLength(3);
    const lookup = await t.app.inject({
      url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
      headers: t.admin,
    });
    expect(lookup.statusCode).toBe(404);
    // Room again once one goes.
    const [first] = await idsOf(customer.id);
    await t.app.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}/identities/${first}`, headers: t.admin });
    expect(
      (await post(`/customers/${customer.id}/identities`, { channel: 'telegram', external_id: externalId })).statusCode,
    ).toBe(201);
  });

  it('refuses a move into a full customer, and the identity stays where it was', async () => {
    const full = await createCustomer(t.app);
    const fullIds = await fill(full.id, 3);
    const other = await createCustomer(t.app);
    const [identity] = await fill(other.id, 1);
    const refused = await post(`/customers/${other.id}/identities/${identity}/move`, { customer_id: full.id });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ detail: beyond(4, 3) });
    expect(await idsOf(other.id)).toEqual([identity]);
    expect(await idsOf(full.id)).toEqual(fullIds);
  });

  it('refuses a merge (and its dry run) that would pass the limit; one within it goes through', async () => {
    const target = await createCustomer(t.app);
    const source = await createCustomer(t.app);
    const targetIds = await fill(target.id, 2);
    const sourceIds = await fill(source.id, 2);
    for (const dryRun of [true, false]) {
      const refused = await post(`/customers/${target.id}/merge`, { source_customer_id: source.id, dry_run: dryRun });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({ detail: beyond(4, 3) });
    }
    expect(await idsOf(target.id)).toEqual(targetIds);
    expect(await idsOf(source.id)).toEqual(sourceIds);
    const customer = await t.app.inject({ url: `/v1/customers/${source.id}`, headers: t.admin });
    expect(customer.statusCode).toBe(200);

    await t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${source.id}/identities/${sourceIds[0]}`,
      headers: t.admin,
    });
    const merged = await post(`/customers/${target.id}/merge`, { source_customer_id: source.id });
    expect(merged.statusCode, merged.body).toBe(200);
    expect(await idsOf(target.id)).toHaveLength(3);
  });

  it('lets exactly as many concurrent links in as there is room for', async () => {
    const customer = await createCustomer(t.app);
    await fill(customer.id, 1);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        post(`/customers/${customer.id}/identities`, { channel: 'telegram', external_id: telegramId() }),
      ),
    );
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([201, 201, 409, 409, 409, 409, 409, 409]);
    expect(await idsOf(customer.id)).toHaveLength(3);
  });

  it('lets concurrent moves and links into one customer fill it but never pass it', async () => {
    const customer = await createCustomer(t.app);
    const others = await Promise.all(Array.from({ length: 4 }, () => createCustomer(t.app)));
    const movable = await Promise.all(others.map(async (o) => ({ from: o.id, id: (await fill(o.id, 1))[0] })));
    const answers = await Promise.all([
      ...movable.map((m) => post(`/customers/${m.from}/identities/${m.id}/move`, { customer_id: customer.id })),
      ...Array.from({ length: 3 }, () =>
        post(`/customers/${customer.id}/identities`, { channel: 'telegram', external_id: telegramId() }),
      ),
    ]);
    expect(answers.filter((a) => a.statusCode === 200 || a.statusCode === 201)).toHaveLength(3);
    expect(answers.filter((a) => a.statusCode === 409)).toHaveLength(4);
    expect(await idsOf(customer.id)).toHaveLength(3);
  });
});

describe.each(DIALECTS)('MAX_IDENTITIES_PER_CUSTOMER on link requests on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { MAX_IDENTITIES_PER_CUSTOMER: '2' });
  });
  afterAll(() => t.close());

  const post = (url: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url: `/v1${url}`, headers: t.admin, payload: payload as object });
  const ask = async () => {
    const response = await post('/link-requests', { channel: 'telegram', external_id: telegramId() });
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string; code: string; external_id: string }>();
  };

  it('refuses a redemption, an approval and a self-service link into a full customer, and the request stays pending', async () => {
    const customer = await createCustomer(t.app);
    const sender = await createIdentity(t.app, customer.id, { channel: 'slack', external_id: `U${telegramId()}` });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}/identities/${sender.id}`,
      headers: t.admin,
      payload: { verified: true },
    });
    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
    const request = await ask();
    const attempts = [
      await post('/link-requests/redeem', { code: request.code, customer_id: customer.id }),
      await post(`/link-requests/${request.id}/approve`, { customer_id: customer.id }),
      await post('/customers/identities/link', {
        channel: 'slack',
        external_id: sender.external_id,
        code: request.code,
      }),
    ];
    for (const refused of attempts) {
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({ detail: beyond(3, 2) });
    }
    const after = await t.app.inject({ url: `/v1/link-requests/${request.id}`, headers: t.admin });
    expect(after.json().status).toBe('pending');
    const lookup = await t.app.inject({
      url: `/v1/customers/lookup/identity?channel=telegram&external_id=${request.external_id}`,
      headers: t.admin,
    });
    expect(lookup.statusCode).toBe(404);
  });
});

describe.each(DIALECTS)('the limit by default on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('is 100 identities', async () => {
    const customer = await createCustomer(t.app);
    for (let i = 0; i < 100; i++) await createIdentity(t.app, customer.id, { channel: 'slack', external_id: `U${i}` });
    const refused = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${customer.id}/identities`,
      headers: t.admin,
      payload: { channel: 'slack', external_id: 'U100' },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ detail: beyond(101, 100) });
  });
});

describe.each(DIALECTS)('a merge and the metadata limit on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('refuses a merge whose metadata would pass 16 KiB (a PATCH of it would be refused), and changes nothing', async () => {
    const target = await createCustomer(t.app, { metadata: { notes: 'a'.repeat(15_000) } });
    const source = await createCustomer(t.app, { metadata: { history: 'b'.repeat(15_000) } });
    for (const dryRun of [true, false]) {
      const refused = await t.app.inject({
        method: 'POST',
        url: `/v1/customers/${target.id}/merge`,
        headers: t.admin,
        payload: { source_customer_id: source.id, dry_run: dryRun },
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().detail).toMatch(
        /^The merged metadata would be 300\d\d bytes as JSON; at most 16384 are allowed: /,
      );
    }
    // The same value is what PATCH refuses: one rule for what a customer's metadata may be.
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${target.id}`,
      headers: t.admin,
      payload: { metadata: { notes: 'a'.repeat(15_000), history: 'b'.repeat(15_000) } },
    });
    expect(patch.statusCode).toBe(422);
    const kept = await t.app.inject({ url: `/v1/customers/${target.id}`, headers: t.admin });
    expect(Object.keys(kept.json().metadata)).toEqual(['notes']);
    expect((await t.app.inject({ url: `/v1/customers/${source.id}`, headers: t.admin })).statusCode).toBe(200);

    // Shared keys count once: the target's win, and the result fits.
    const small = await createCustomer(t.app, { metadata: { notes: 'c'.repeat(15_000) } });
    const merged = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${target.id}/merge`,
      headers: t.admin,
      payload: { source_customer_id: small.id },
    });
    expect(merged.statusCode, merged.body).toBe(200);
  });
});
