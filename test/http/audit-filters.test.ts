import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey } from '../helpers/factories.js';

interface AuditEvent {
  id: string;
  actor: string;
  action: string;
  customer_id: string | null;
}
interface AuditPage {
  items: AuditEvent[];
  next_cursor: string | null;
}

/** The console's audit page filters the whole trail by action, actor and customer, a page at a time. */
describe.each(DIALECTS)('audit trail filters on $name', (dialect) => {
  let t: TestApp;
  let steve: { id: string };
  let peggy: { id: string };
  let operator: { id: string; key: string };

  const list = async (query: string) => {
    const response = await t.app.inject({ url: `/v1/audit?${query}`, headers: t.admin });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<AuditPage>();
  };

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    operator = await createKey(t.app, 'admin', 'matt_desk');
    steve = await createCustomer(t.app, { name: 'Steve' });
    peggy = await createCustomer(t.app, { name: 'Peggy' });
    // Matt's own key links Peggy's identities: a second actor in the trail.
    for (const external_id of ['101', '102', '103']) {
      const response = await t.app.inject({
        method: 'POST',
        url: `/v1/customers/${peggy.id}/identities`,
        headers: { 'x-api-key': operator.key },
        payload: { channel: 'telegram', external_id },
      });
      expect(response.statusCode).toBe(201);
    }
    const identity = await createIdentity(t.app, steve.id, { channel: 'telegram', external_id: '201' });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${steve.id}/identities/${identity.id}`,
      headers: t.admin,
      payload: { verified: true },
    });
  });
  afterAll(() => t.close());

  it('filters by one action', async () => {
    const { items } = await list('action=identity.created');
    expect(items).toHaveLength(4);
    expect(new Set(items.map((e) => e.action))).toEqual(new Set(['identity.created']));
    const verified = await list('action=identity.verified');
    expect(verified.items.map((e) => e.customer_id)).toEqual([steve.id]);
  });

  it('filters by a family of actions with a star, and the star only at the end', async () => {
    const { items } = await list('action=customer.*');
    expect(items.map((e) => e.action)).toEqual(['customer.created', 'customer.created']);
    const identities = await list('action=identity.*');
    expect(identities.items.map((e) => e.action).sort()).toEqual([
      'identity.created',
      'identity.created',
      'identity.created',
      'identity.created',
      'identity.verified',
    ]);
    // `api_key.*` finds the key Matt was given; `_` is not a wildcard (`apixkey.*` finds nothing).
    expect((await list('action=api_key.*')).items.map((e) => e.action)).toEqual(['api_key.created']);
    expect((await list('action=apixkey.*')).items).toEqual([]);
  });

  it('filters by actor, and combines actor, action and customer', async () => {
    const byMatt = await list('actor=matt_desk');
    expect(byMatt.items).toHaveLength(3);
    expect(byMatt.items.every((e) => e.actor === 'matt_desk' && e.customer_id === peggy.id)).toBe(true);

    const both = await list(`actor=bootstrap&action=identity.created&customer_id=${steve.id}`);
    expect(both.items).toHaveLength(1);
    expect(await list(`actor=matt_desk&customer_id=${steve.id}`)).toEqual({ items: [], next_cursor: null });
    expect((await list('actor=nobody')).items).toEqual([]);
  });

  it('pages through a filtered trail without repeats or gaps', async () => {
    const all = await list('action=identity.created&limit=200');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: AuditPage = await list(
        `action=identity.created&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(all.items.map((e) => e.id));
  });

  it.each([
    ['action=identity', 'string_pattern_mismatch'],
    ['action=identity.*.x', 'string_pattern_mismatch'],
    ['action=Identity.created', 'string_pattern_mismatch'],
    ['action=%25', 'string_pattern_mismatch'],
    [`action=identity.${'x'.repeat(64)}`, 'string_too_long'],
    ['actor=', 'string_too_short'],
    [`actor=${'a'.repeat(101)}`, 'string_too_long'],
  ])('refuses %s with a 422 naming the field', async (query, type) => {
    const response = await t.app.inject({ url: `/v1/audit?${query}`, headers: t.admin });
    expect(response.statusCode).toBe(422);
    const [issue] = response.json<{ detail: { loc: string[]; type: string }[] }>().detail;
    expect(issue?.loc).toEqual(['query', query.slice(0, query.indexOf('='))]);
    expect(issue?.type).toBe(type);
  });

  it('is for admin keys only', async () => {
    const runtime = await createKey(t.app, 'runtime', 'bot');
    const response = await t.app.inject({ url: '/v1/audit?actor=bot', headers: { 'x-api-key': runtime.key } });
    expect(response.statusCode).toBe(403);
  });
});
