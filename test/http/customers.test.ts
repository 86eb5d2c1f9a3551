import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, ISO_UTC, ManualClock } from '../helpers/factories.js';

interface Customer {
  id: string;
  email: string;
  name: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}
interface Page {
  items: Customer[];
  next_cursor: string | null;
}

const tag = () => `t${randomUUID().slice(0, 8)}`;

describe.each(DIALECTS)('customers on $name', (dialect) => {
  let t: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await buildTestApp(dialect, {}, { clock });
  });
  afterAll(() => t.close());

  const list = async (query: string) => {
    const response = await t.app.inject({ url: `/v1/customers?${query}`, headers: t.admin });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Page>();
  };
  /** Customers created one second apart, so that "newest first" has a meaning. */
  const createMany = async (n: number, name: string) => {
    const made: Customer[] = [];
    for (let i = 0; i < n; i++) {
      clock.advance(1);
      made.push((await createCustomer(t.app, { name: `${name} ${i}` })) as Customer);
    }
    return made;
  };

  describe('create', () => {
    it('returns 201 with the customer, its email lowercased', async () => {
      const email = `Steve.${tag()}@Acme.COM`;
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: t.admin,
        payload: { email, name: 'Steve', metadata: { plan: 'pro' } },
      });
      expect(response.statusCode).toBe(201);
      const body = response.json<Customer>();
      expect(Object.keys(body).sort()).toEqual(['created_at', 'email', 'id', 'metadata', 'name', 'updated_at']);
      expect(body.email).toBe(email.toLowerCase());
      expect(body.name).toBe('Steve');
      expect(body.metadata).toEqual({ plan: 'pro' });
      expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(body.created_at).toMatch(ISO_UTC);
      expect(body.updated_at).toBe(body.created_at);
    });

    it('defaults name to null and metadata to {}', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: t.admin,
        payload: { email: `${tag()}@example.com` },
      });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ name: null, metadata: {} });
    });

    it('answers 409 for an email already taken, compared case-insensitively', async () => {
      const email = `${tag()}@example.com`;
      await createCustomer(t.app, { email });
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: t.admin,
        payload: { email: email.toUpperCase() },
      });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ detail: expect.any(String) });
      const found = await list(`email=${encodeURIComponent(email)}`);
      expect(found.items).toHaveLength(1);
    });

    it('answers 422 missing for a body without email', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: t.admin,
        payload: { name: 'x' },
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'email'], type: 'missing' });
    });

    it('answers 422 value_error for an email without a domain', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: t.admin,
        payload: { email: 'not-an-email' },
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'email'], type: 'value_error' });
    });
  });

  describe('list', () => {
    it('lists newest first', async () => {
      const name = tag();
      const made = await createMany(3, name);
      const page = await list(`q=${name}`);
      expect(page.items.map((c) => c.id)).toEqual(made.map((c) => c.id).reverse());
      expect(page.next_cursor).toBeNull();
    });

    it('finds by exact email, case-insensitively', async () => {
      const [first] = await createMany(2, tag());
      const page = await list(`email=${encodeURIComponent((first as Customer).email.toUpperCase())}`);
      expect(page.items.map((c) => c.id)).toEqual([(first as Customer).id]);
    });

    it('searches part of the name or the email with q, case-insensitively', async () => {
      const name = tag();
      const [byName] = await createMany(1, `Mr ${name.toUpperCase()}`);
      const byEmail = await createCustomer(t.app, { email: `x-${name}@example.com`, name: 'Other' });
      await createCustomer(t.app, { name: 'Unrelated' });
      const page = await list(`q=${name}`);
      expect(page.items.map((c) => c.id).sort()).toEqual([(byName as Customer).id, byEmail.id].sort());
    });

    it('takes % and _ in q literally', async () => {
      const name = tag();
      const literal = await createCustomer(t.app, { name: `${name} 100%_off` });
      await createCustomer(t.app, { name: `${name} 100 percent off` });
      const page = await list(`q=${encodeURIComponent('100%_')}`);
      expect(page.items.map((c) => c.id)).toEqual([literal.id]);
    });

    it('returns 50 items by default and a cursor to the rest', async () => {
      const name = tag();
      await createMany(52, name);
      const first = await list(`q=${name}`);
      expect(first.items).toHaveLength(50);
      expect(first.next_cursor).toEqual(expect.any(String));
      const second = await list(`q=${name}&cursor=${encodeURIComponent(first.next_cursor as string)}`);
      expect(second.items).toHaveLength(2);
      expect(second.next_cursor).toBeNull();
    });

    it('walks every page without duplicates or gaps', async () => {
      const name = tag();
      const made = await createMany(17, name);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page = await list(`q=${name}&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(5);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(4);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(made.map((c) => c.id).reverse());
    });

    it('pages through customers created in the same millisecond', async () => {
      const name = tag();
      const made: string[] = [];
      for (let i = 0; i < 6; i++) made.push((await createCustomer(t.app, { name: `${name} ${i}` })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 6; i++) {
        const page: Page = await list(`q=${name}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      expect(seen.sort()).toEqual(made.sort());
    });

    it.each([
      ['0', 'greater_than_equal'],
      ['201', 'less_than_equal'],
      ['abc', 'int_parsing'],
    ])('answers 422 for limit=%s (%s)', async (limit, type) => {
      const response = await t.app.inject({ url: `/v1/customers?limit=${limit}`, headers: t.admin });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['query', 'limit'], type });
    });

    it('accepts the limits 1 and 200', async () => {
      expect((await list('limit=1')).items).toHaveLength(1);
      expect((await list('limit=200')).items.length).toBeGreaterThan(50);
    });

    it('answers 422 for a cursor it did not issue', async () => {
      const response = await t.app.inject({ url: '/v1/customers?cursor=not-a-cursor', headers: t.admin });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['query', 'cursor'] });
    });
  });

  describe('get, patch, delete', () => {
    it('gets a customer by id', async () => {
      const customer = await createCustomer(t.app);
      const response = await t.app.inject({ url: `/v1/customers/${customer.id}`, headers: t.admin });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ id: customer.id, email: customer.email });
    });

    it('answers 404 for an unknown id and 422 uuid_parsing for a malformed one', async () => {
      const unknown = await t.app.inject({ url: `/v1/customers/${randomUUID()}`, headers: t.admin });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({ detail: expect.any(String) });
      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const bad = await t.app.inject({
          method,
          url: '/v1/customers/not-a-uuid',
          headers: t.admin,
          ...(method === 'PATCH' ? { payload: {} } : {}),
        });
        expect(bad.statusCode).toBe(422);
        expect(bad.json().detail[0]).toMatchObject({ loc: ['path', 'customer_id'], type: 'uuid_parsing' });
      }
    });

    it('patches name, email (lowercased) and metadata, and moves updated_at', async () => {
      const customer = (await createCustomer(t.app)) as Customer;
      clock.advance(5);
      const email = `New.${tag()}@Example.com`;
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}`,
        headers: t.admin,
        payload: { name: 'Renamed', email, metadata: { a: 1 } },
      });
      expect(response.statusCode).toBe(200);
      const body = response.json<Customer>();
      expect(body).toMatchObject({ name: 'Renamed', email: email.toLowerCase(), metadata: { a: 1 } });
      expect(body.created_at).toBe(customer.created_at);
      expect(body.updated_at > customer.updated_at).toBe(true);
      const again = await t.app.inject({ url: `/v1/customers/${customer.id}`, headers: t.admin });
      expect(again.json()).toEqual(body);
    });

    it('changes nothing on {}', async () => {
      const customer = (await createCustomer(t.app, { metadata: { keep: true } })) as Customer;
      clock.advance(5);
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}`,
        headers: t.admin,
        payload: {},
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(customer);
    });

    it('answers 409 when patching to a taken email and 404 for an unknown customer', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const taken = await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${b.id}`,
        headers: t.admin,
        payload: { email: a.email.toUpperCase() },
      });
      expect(taken.statusCode).toBe(409);
      const unknown = await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${randomUUID()}`,
        headers: t.admin,
        payload: { name: 'x' },
      });
      expect(unknown.statusCode).toBe(404);
    });

    it('deletes with 204, after which the customer is gone', async () => {
      const customer = await createCustomer(t.app);
      const response = await t.app.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers: t.admin });
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      const gone = await t.app.inject({ url: `/v1/customers/${customer.id}`, headers: t.admin });
      expect(gone.statusCode).toBe(404);
      const again = await t.app.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers: t.admin });
      expect(again.statusCode).toBe(404);
      // The email is free again.
      await createCustomer(t.app, { email: customer.email });
    });
  });
});
