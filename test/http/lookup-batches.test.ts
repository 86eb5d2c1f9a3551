import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

let next = 700_000;
const telegramId = () => String(next++);

/**
 * Lookups that miss the cache at the same moment. On PostgreSQL those asked for in one turn of the
 * event loop are read by one statement (identities.repository.ts, batchedLookups): every answer
 * must still be its own key's, whatever else shares the statement. On SQLite each is read at once.
 */
describe.each(DIALECTS)('lookups read together on $name', (dialect) => {
  let t: TestApp;
  const expected: { query: Record<string, string>; status: number; customer?: string; identity?: string }[] = [];

  beforeAll(async () => {
    // No cache: every lookup reads the database.
    t = await buildTestApp(dialect, { LOOKUP_CACHE_MAX: '0' });
    for (let i = 0; i < 6; i++) {
      const customer = await createCustomer(t.app);
      const externalId = telegramId();
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
      expected.push({
        query: { channel: 'telegram', external_id: externalId },
        status: 200,
        customer: customer.id,
        identity: identity.id,
      });
    }
    // By an alias, and by the identity's own id.
    const aliased = await createCustomer(t.app);
    const slack = await createIdentity(t.app, aliased.id, { channel: 'slack', external_id: 'U0BATCH1' });
    const alias = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${aliased.id}/identities/${slack.id}/aliases`,
      headers: t.admin,
      payload: { external_id: 'U0BATCH2' },
    });
    expect(alias.statusCode).toBe(201);
    for (const externalId of ['U0BATCH1', 'u0batch2']) {
      expected.push({
        query: { channel: 'slack', external_id: externalId },
        status: 200,
        customer: aliased.id,
        identity: slack.id,
      });
    }
    // One key in more scopes than a statement reads for it (33), and unscoped too.
    const shared = telegramId();
    const everywhere = await createCustomer(t.app);
    const unscoped = await createIdentity(t.app, everywhere.id, { channel: 'telegram', external_id: shared });
    for (let i = 0; i < 36; i++) {
      const customer = await createCustomer(t.app);
      const instance = randomUUID();
      const identity = await createIdentity(t.app, customer.id, {
        channel: 'telegram',
        external_id: shared,
        instance_id: instance,
      });
      expected.push({
        query: { channel: 'telegram', external_id: shared, instance_id: instance },
        status: 200,
        customer: customer.id,
        identity: identity.id,
      });
    }
    expected.push({
      query: { channel: 'telegram', external_id: shared },
      status: 200,
      customer: everywhere.id,
      identity: unscoped.id,
    });
    // Nobody's, twice each.
    for (let i = 0; i < 3; i++) {
      const query = { channel: 'telegram', external_id: telegramId() };
      expected.push({ query, status: 404 }, { query, status: 404 });
    }
    // The same key asked twice at once.
    expected.push({ ...(expected[0] as (typeof expected)[number]) });
  });
  afterAll(() => t.close());

  const lookup = (query: Record<string, string>) =>
    t.app.inject({ url: `/v1/customers/lookup/identity?${new URLSearchParams(query)}`, headers: t.admin });

  /** The lookup statements sent to PostgreSQL while `run` runs: of many keys (`unnest`) or of one. */
  async function countingStatements<T>(run: () => Promise<T>, fail?: (text: string) => boolean) {
    const pool = t.app.services.db.lookupPool as pg.Pool;
    const query = pool.query;
    const sent: { many: boolean }[] = [];
    pool.query = ((config: pg.QueryConfig, ...rest: unknown[]) => {
      if (typeof config === 'object' && config.name?.startsWith('identity_lookup_')) {
        sent.push({ many: config.text.includes('unnest') });
        if (fail?.(config.text)) return Promise.reject(new Error('this statement failed'));
      }
      return (query as (...args: unknown[]) => unknown).call(pool, config, ...rest);
    }) as typeof pool.query;
    try {
      return { result: await run(), sent };
    } finally {
      pool.query = query;
    }
  }

  const all = () => Promise.all(expected.map(({ query }) => lookup(query)));

  function expectAnswers(responses: Awaited<ReturnType<typeof all>>) {
    responses.forEach((response, i) => {
      const { query, status, customer, identity } = expected[i] as (typeof expected)[number];
      const label = JSON.stringify(query);
      expect(response.statusCode, label).toBe(status);
      if (status === 200)
        expect(response.json(), label).toMatchObject({ customer_id: customer, identity_id: identity });
      else expect(response.json(), label).toEqual({ detail: expect.any(String) });
    });
  }

  it('answers each of many lookups at once with its own rows', async () => {
    expectAnswers(await all());
    // And the same one by one.
    for (const { query, status, customer } of expected) {
      const response = await lookup(query);
      expect(response.statusCode).toBe(status);
      if (customer) expect(response.json().customer_id).toBe(customer);
    }
  });

  // PostgreSQL only (defined there only, so nothing is skipped on SQLite).
  if (dialect.name !== 'postgres') return;

  it('reads lookups asked for together in a few statements', async () => {
    const { result, sent } = await countingStatements(all);
    expectAnswers(result);
    // A few statements for them all, and one more for the key in 37 scopes (its scopes that can answer).
    expect(sent.some((s) => s.many)).toBe(true);
    expect(sent.length).toBeLessThan(expected.length / 4);
  });

  it('reads each key alone when a statement of many fails', async () => {
    const { result, sent } = await countingStatements(all, (text) => text.includes('unnest'));
    expectAnswers(result);
    // The statements of many that failed, then one for each key (channel and id: scopes share one).
    expect(sent.some((s) => s.many)).toBe(true);
    const keys = new Set(expected.map(({ query }) => `${query.channel} ${query.external_id}`));
    expect(sent.filter((s) => !s.many).length).toBeGreaterThanOrEqual(keys.size);
  });
});
