import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoRandom } from '../../src/internal/clock.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey, ISO_UTC, ManualClock } from '../helpers/factories.js';

const INVALID = { detail: 'Invalid or expired link code' };
const CODE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$/;
const FIELDS = [
  'channel',
  'created_at',
  'customer_id',
  'decided_at',
  'display_name',
  'expires_at',
  'external_id',
  'id',
  'identity_id',
  'instance_id',
  'status',
];
/** A per-key budget far away, so that only the self-service limit is what the tests meet. */
const ENV = {
  RATE_LIMIT_CLAIM_PER_KEY: '1000',
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_DELIVERY_ENABLED: 'false',
};

let next = 3_100_000;
const telegramId = () => String(next++);
const wrongCode = (code: string) => (code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA');

interface Issued {
  id: string;
  code: string;
  instructions: string;
  status: string;
  expires_at: string;
  external_id: string;
}

describe.each(DIALECTS)('link requests on $name', (dialect) => {
  let t: TestApp;
  let runtime: { key: string };
  const clock = new ManualClock(Date.parse('2026-12-07T10:00:00.000Z'));
  beforeAll(async () => {
    t = await buildTestApp(dialect, ENV, { clock });
    runtime = await createKey(t.app, 'runtime');
  });
  afterAll(() => t.close());

  const ask = (payload: Record<string, unknown>, headers: Record<string, string> = { 'x-api-key': runtime.key }) =>
    t.app.inject({ method: 'POST', url: '/v1/link-requests', headers, payload });
  async function issue(payload: Record<string, unknown> = {}): Promise<Issued> {
    const response = await ask({ channel: 'telegram', external_id: telegramId(), ...payload });
    if (response.statusCode !== 201) throw new Error(`issue: ${response.statusCode} ${response.body}`);
    return response.json();
  }
  const post = (url: string, payload?: Record<string, unknown>, headers = t.admin) =>
    t.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });
  const redeem = (payload: Record<string, unknown>) => post('/v1/link-requests/redeem', payload);
  const get = (id: string) => t.app.inject({ url: `/v1/link-requests/${id}`, headers: t.admin });
  const lookup = (externalId: string, channel = 'telegram') =>
    t.app.inject({
      url: `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}`,
      headers: t.admin,
    });
  const selfLink = (payload: Record<string, unknown>) =>
    post('/v1/customers/identities/link', payload, { 'x-api-key': runtime.key });

  /** A customer with a verified telegram account, the sender of self-service links. */
  async function verifiedSender() {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers: t.admin,
      payload: { verified: true },
    });
    return { customer, identity, sender: { channel: 'telegram', external_id: identity.external_id } };
  }

  describe('create', () => {
    it('answers 201 with the request, its 8-character code and instructions (runtime key)', async () => {
      const externalId = telegramId();
      const response = await ask({ channel: ' Telegram ', external_id: ` 00${externalId} `, display_name: 'Ann' });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual([...FIELDS, 'code', 'instructions'].sort());
      expect(body).toMatchObject({
        channel: 'telegram',
        external_id: externalId,
        instance_id: null,
        display_name: 'Ann',
        status: 'pending',
        decided_at: null,
        customer_id: null,
        identity_id: null,
      });
      expect(body.code).toMatch(CODE);
      expect(body.created_at).toBe('2026-12-07T10:00:00.000Z');
      expect(body.expires_at).toBe('2026-12-07T11:00:00.000Z');
      expect(body.instructions).toBe(
        `To link this telegram account, read the code ${body.code} to the team you are talking to, or send /link ${body.code} from an account of yours that is already verified. The code expires in 1 hour.`,
      );
      // Kept only as an HMAC.
      const row = await t.app.services.db.kysely
        .selectFrom('link_requests')
        .selectAll()
        .where('id', '=', body.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(body.code);
      expect(row.code_hmac).toMatch(/^[0-9a-f]{64}$/);
      expect(row.origin).toBe('api');
    });

    it('is allowed to admin keys and refused without a key', async () => {
      expect((await ask({ channel: 'telegram', external_id: telegramId() }, t.admin)).statusCode).toBe(201);
      expect((await ask({ channel: 'telegram', external_id: telegramId() }, {})).statusCode).toBe(401);
    });

    it('validates and normalizes like an identity, and writes nothing for bad input', async () => {
      const before = await t.app.services.db.kysely.selectFrom('link_requests').select('id').execute();
      const bad = await ask({ channel: 'telegram', external_id: 'not-a-number' });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().detail[0]).toMatchObject({ loc: ['body', 'external_id'], type: 'value_error' });
      expect((await ask({ channel: 'Not A Channel!', external_id: '1' })).json().detail[0].loc).toEqual([
        'body',
        'channel',
      ]);
      expect((await ask({ channel: 'telegram' })).json().detail[0]).toMatchObject({
        loc: ['body', 'external_id'],
        type: 'missing',
      });
      expect((await ask({ channel: 'telegram', external_id: '1', instance_id: 'x' })).statusCode).toBe(422);
      const phone = await ask({ channel: 'whatsapp', external_id: '+1 (415) 555-2671' });
      expect(phone.json().external_id).toBe('+14155552671');
      const after = await t.app.services.db.kysely.selectFrom('link_requests').select('id').execute();
      expect(after.length).toBe(before.length + 1);
    });

    it('asked again while pending: 200, same id, a fresh code, the old one void, expires_at renewed', async () => {
      const first = await issue();
      clock.advance(600);
      const again = await ask({ channel: 'telegram', external_id: first.external_id, display_name: 'Later' });
      expect(again.statusCode).toBe(200);
      const body = again.json();
      expect(body.id).toBe(first.id);
      expect(body.code).toMatch(CODE);
      expect(body.code).not.toBe(first.code);
      expect(body.display_name).toBe('Later');
      expect(Date.parse(body.expires_at) - Date.parse(first.expires_at)).toBe(600_000);
      const customer = await createCustomer(t.app);
      expect((await redeem({ code: first.code, customer_id: customer.id })).json()).toEqual(INVALID);
      expect((await redeem({ code: body.code, customer_id: customer.id })).statusCode).toBe(200);
    });

    it('409 with conflict when the account is linked already in that scope; another scope is free', async () => {
      const customer = await createCustomer(t.app);
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
      const response = await ask({ channel: 'telegram', external_id: identity.external_id });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({
        detail: 'This channel identity is already linked to a customer',
        conflict: { customer_id: customer.id, identity_id: identity.id },
      });
      const scoped = await ask({ channel: 'telegram', external_id: identity.external_id, instance_id: randomUUID() });
      expect(scoped.statusCode).toBe(201);
    });

    it('an expired request shows as expired, its code fails, and asking again makes a new one', async () => {
      const first = await issue();
      clock.advance(3600);
      const shown = await get(first.id);
      expect(shown.json().status).toBe('expired');
      const customer = await createCustomer(t.app);
      expect((await redeem({ code: first.code, customer_id: customer.id })).json()).toEqual(INVALID);
      const again = await ask({ channel: 'telegram', external_id: first.external_id });
      expect(again.statusCode).toBe(201);
      expect(again.json().id).not.toBe(first.id);
      expect((await get(first.id)).json().status).toBe('expired');
      const expired = await t.app.inject({ url: '/v1/link-requests?status=expired&limit=200', headers: t.admin });
      expect(expired.json().items.map((r: { id: string }) => r.id)).toContain(first.id);
      const pending = await t.app.inject({ url: '/v1/link-requests?status=pending&limit=200', headers: t.admin });
      const pendingIds = pending.json().items.map((r: { id: string }) => r.id);
      expect(pendingIds).toContain(again.json().id);
      expect(pendingIds).not.toContain(first.id);
    });
  });

  describe('list and get', () => {
    it('newest first, filtered by status and channel, paged, never with a code; admin only', async () => {
      const channel = `ch${randomUUID().slice(0, 8)}`;
      const made: Issued[] = [];
      for (let i = 0; i < 5; i++) {
        made.push(await issue({ channel, external_id: `user-${i}` }));
        clock.advance(1);
      }
      await post(`/v1/link-requests/${made[1]?.id}/reject`);
      const page1 = await t.app.inject({
        url: `/v1/link-requests?channel=${channel.toUpperCase()}&limit=2`,
        headers: t.admin,
      });
      expect(page1.statusCode).toBe(200);
      const body1 = page1.json();
      expect(body1.items.map((r: { id: string }) => r.id)).toEqual([made[4]?.id, made[3]?.id]);
      expect(Object.keys(body1.items[0]).sort()).toEqual(FIELDS);
      const page2 = await t.app.inject({
        url: `/v1/link-requests?channel=${channel}&limit=2&cursor=${body1.next_cursor}`,
        headers: t.admin,
      });
      const page3 = await t.app.inject({
        url: `/v1/link-requests?channel=${channel}&limit=2&cursor=${page2.json().next_cursor}`,
        headers: t.admin,
      });
      expect([...page2.json().items, ...page3.json().items].map((r: { id: string }) => r.id)).toEqual([
        made[2]?.id,
        made[1]?.id,
        made[0]?.id,
      ]);
      expect(page3.json().next_cursor).toBeNull();
      for (const page of [page1, page2, page3]) for (const m of made) expect(page.body).not.toContain(m.code);

      const rejected = await t.app.inject({
        url: `/v1/link-requests?channel=${channel}&status=rejected`,
        headers: t.admin,
      });
      expect(rejected.json().items.map((r: { id: string }) => r.id)).toEqual([made[1]?.id]);
      const one = await get(made[0]?.id ?? '');
      expect(one.statusCode).toBe(200);
      expect(Object.keys(one.json()).sort()).toEqual(FIELDS);

      const asRuntime = await t.app.inject({ url: '/v1/link-requests', headers: { 'x-api-key': runtime.key } });
      expect(asRuntime.statusCode).toBe(403);
      expect((await t.app.inject({ url: '/v1/link-requests?status=maybe', headers: t.admin })).statusCode).toBe(422);
      expect(
        (await t.app.inject({ url: '/v1/link-requests?cursor=zzz', headers: t.admin })).json().detail[0].loc,
      ).toEqual(['query', 'cursor']);
      expect((await get(randomUUID())).json()).toEqual({ detail: 'Link request not found' });
      expect((await get('not-a-uuid')).statusCode).toBe(422);
    });
  });

  describe('redeem', () => {
    it('links the account to the customer, verified by link_request; the code is spent', async () => {
      const customer = await createCustomer(t.app);
      const request = await issue({ display_name: 'Steve T' });
      const typed = `${request.code.slice(0, 4).toLowerCase()} - ${request.code.slice(4)}`;
      const response = await redeem({ code: typed, customer_id: customer.id, role_override: 'owner' });
      expect(response.statusCode).toBe(200);
      const { link_request, identity } = response.json();
      expect(link_request).toMatchObject({
        id: request.id,
        status: 'approved',
        customer_id: customer.id,
        identity_id: identity.id,
      });
      expect(link_request.decided_at).toMatch(ISO_UTC);
      expect(identity).toMatchObject({
        customer_id: customer.id,
        channel: 'telegram',
        external_id: request.external_id,
        display_name: 'Steve T',
        role_override: 'owner',
        verified: true,
        verified_via: 'link_request',
      });
      const found = await lookup(request.external_id);
      expect(found.json()).toMatchObject({ customer_id: customer.id, verified: true, verified_via: 'link_request' });
      expect((await redeem({ code: request.code, customer_id: customer.id })).json()).toEqual(INVALID);
      expect((await get(request.id)).json().status).toBe('approved');
    });

    it('makes a new customer from `customer`', async () => {
      const request = await issue();
      const email = `New-${randomUUID()}@Example.com`;
      const response = await redeem({ code: request.code, customer: { email, name: 'New', metadata: { a: 1 } } });
      expect(response.statusCode).toBe(200);
      const customer = await t.app.inject({
        url: `/v1/customers/${response.json().identity.customer_id}`,
        headers: t.admin,
      });
      expect(customer.json()).toMatchObject({ email: email.toLowerCase(), name: 'New', metadata: { a: 1 } });
    });

    it('every code failure is the same 400; the other errors change nothing', async () => {
      const customer = await createCustomer(t.app);
      const request = await issue();
      for (const code of [wrongCode(request.code), 'x', `${request.code}X`]) {
        const response = await redeem({ code, customer_id: customer.id });
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual(INVALID);
      }
      const unknown = await redeem({ code: request.code, customer_id: randomUUID() });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({ detail: 'Customer not found' });
      const taken = await redeem({ code: request.code, customer: { email: customer.email } });
      expect(taken.statusCode).toBe(409);
      expect(taken.json()).toEqual({ detail: 'A customer with this email already exists' });
      const both = await redeem({ code: request.code, customer_id: customer.id, customer: { email: 'a@b.co' } });
      expect(both.statusCode).toBe(422);
      expect(both.json().detail[0].loc).toEqual(['body', 'customer']);
      const neither = await redeem({ code: request.code });
      expect(neither.json().detail[0]).toMatchObject({ loc: ['body', 'customer_id'], type: 'missing' });
      expect((await redeem({ customer_id: customer.id })).json().detail[0].loc).toEqual(['body', 'code']);
      expect((await get(request.id)).json().status).toBe('pending');
      expect((await lookup(request.external_id)).statusCode).toBe(404);
      const asRuntime = await post(
        '/v1/link-requests/redeem',
        { code: request.code, customer_id: customer.id },
        {
          'x-api-key': runtime.key,
        },
      );
      expect(asRuntime.statusCode).toBe(403);
      expect((await redeem({ code: request.code, customer_id: customer.id })).statusCode).toBe(200);
    });

    it('409 with conflict when the account was linked meanwhile; the request stays pending', async () => {
      const request = await issue();
      const owner = await createCustomer(t.app);
      const identity = await createIdentity(t.app, owner.id, { channel: 'telegram', external_id: request.external_id });
      const other = await createCustomer(t.app);
      const response = await redeem({ code: request.code, customer_id: other.id });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({
        detail: 'This channel identity is already linked to a customer',
        conflict: { customer_id: owner.id, identity_id: identity.id },
      });
      expect((await get(request.id)).json().status).toBe('pending');
    });

    it('failures are limited per API key', async () => {
      const limited = await buildTestApp(dialect, { RATE_LIMIT_CLAIM_PER_KEY: '3' });
      try {
        const customer = await createCustomer(limited.app);
        const made = await limited.app.inject({
          method: 'POST',
          url: '/v1/link-requests',
          headers: limited.admin,
          payload: { channel: 'telegram', external_id: telegramId() },
        });
        const code = made.json().code as string;
        const attempt = (c: string) =>
          limited.app.inject({
            method: 'POST',
            url: '/v1/link-requests/redeem',
            headers: limited.admin,
            payload: { code: c, customer_id: customer.id },
          });
        for (let i = 0; i < 3; i++) expect((await attempt(wrongCode(code))).statusCode).toBe(400);
        const refused = await attempt(code);
        expect(refused.statusCode).toBe(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        await limited.close();
      }
    });
  });

  describe('approve and reject', () => {
    it('approve links the account unverified; then it is not pending (409)', async () => {
      const customer = await createCustomer(t.app);
      const request = await issue();
      const response = await post(`/v1/link-requests/${request.id}/approve`, { customer_id: customer.id });
      expect(response.statusCode).toBe(200);
      const { link_request, identity } = response.json();
      expect(link_request).toMatchObject({ status: 'approved', customer_id: customer.id, identity_id: identity.id });
      expect(identity).toMatchObject({ verified: false, verified_via: null, verified_at: null, role_override: null });
      expect((await lookup(request.external_id)).json()).toMatchObject({ customer_id: customer.id, verified: false });
      const again = await post(`/v1/link-requests/${request.id}/approve`, { customer_id: customer.id });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toEqual({ detail: 'This link request is not pending (it is approved)' });
      expect((await post(`/v1/link-requests/${request.id}/reject`)).statusCode).toBe(409);
      // Its code went with the decision.
      expect((await redeem({ code: request.code, customer_id: customer.id })).json()).toEqual(INVALID);
    });

    it('approve makes a new customer from `customer`, with role_override', async () => {
      const request = await issue();
      const response = await post(`/v1/link-requests/${request.id}/approve`, {
        customer: { email: `a-${randomUUID()}@example.com` },
        role_override: 'admin',
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().identity.role_override).toBe('admin');
    });

    it('reject: 200 rejected; the code fails; then 409', async () => {
      const customer = await createCustomer(t.app);
      const request = await issue();
      const response = await post(`/v1/link-requests/${request.id}/reject`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        id: request.id,
        status: 'rejected',
        customer_id: null,
        identity_id: null,
      });
      expect(response.json().decided_at).toMatch(ISO_UTC);
      expect((await redeem({ code: request.code, customer_id: customer.id })).json()).toEqual(INVALID);
      expect((await post(`/v1/link-requests/${request.id}/approve`, { customer_id: customer.id })).json()).toEqual({
        detail: 'This link request is not pending (it is rejected)',
      });
      expect((await post(`/v1/link-requests/${request.id}/reject`)).statusCode).toBe(409);
    });

    it('404 for an unknown request and customer, 409 for an expired one', async () => {
      const customer = await createCustomer(t.app);
      expect((await post(`/v1/link-requests/${randomUUID()}/reject`)).statusCode).toBe(404);
      expect((await post(`/v1/link-requests/${randomUUID()}/approve`, { customer_id: customer.id })).statusCode).toBe(
        404,
      );
      const request = await issue();
      expect((await post(`/v1/link-requests/${request.id}/approve`, { customer_id: randomUUID() })).statusCode).toBe(
        404,
      );
      clock.advance(3601);
      expect((await post(`/v1/link-requests/${request.id}/approve`, { customer_id: customer.id })).json()).toEqual({
        detail: 'This link request is not pending (it is expired)',
      });
      expect((await post(`/v1/link-requests/${request.id}/reject`)).statusCode).toBe(409);
    });
  });

  describe('self-service link', () => {
    it('a verified sender adds the account to its own customer, verified by linked_identity', async () => {
      const { customer, sender } = await verifiedSender();
      const request = await issue({ channel: 'whatsapp', external_id: `+1415555${String(next++).slice(-4)}` });
      const response = await selfLink({ ...sender, code: request.code.toLowerCase() });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({
        customer_id: customer.id,
        channel: 'whatsapp',
        external_id: request.external_id,
        verified: true,
        verified_via: 'linked_identity',
        role_override: null,
      });
      expect((await get(request.id)).json()).toMatchObject({
        status: 'approved',
        customer_id: customer.id,
        identity_id: response.json().id,
      });
      expect((await lookup(request.external_id, 'whatsapp')).json().verified_via).toBe('linked_identity');
    });

    it('every failure is the same 400: wrong code, unknown or unverified sender', async () => {
      const { sender } = await verifiedSender();
      const request = await issue();
      const customer = await createCustomer(t.app);
      const unverified = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
      const attempts = [
        { ...sender, code: wrongCode(request.code) },
        { channel: 'telegram', external_id: telegramId(), code: request.code },
        { channel: 'telegram', external_id: unverified.external_id, code: request.code },
      ];
      for (const payload of attempts) {
        const response = await selfLink(payload);
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual(INVALID);
      }
      expect((await get(request.id)).json().status).toBe('pending');
      expect((await selfLink({ ...sender, code: request.code })).statusCode).toBe(201);
      expect((await selfLink({ ...sender, code: request.code })).json()).toEqual(INVALID);
    });

    it('an account linked meanwhile is the same 400, and says nothing of its owner', async () => {
      const { sender } = await verifiedSender();
      const request = await issue();
      const owner = await createCustomer(t.app);
      await createIdentity(t.app, owner.id, { channel: 'telegram', external_id: request.external_id });
      const response = await selfLink({ ...sender, code: request.code });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(INVALID);
    });

    it('5 failures from one sender within an hour: 429 for the rest of the hour, even with a right code', async () => {
      const { sender, customer } = await verifiedSender();
      const request = await issue();
      for (let i = 0; i < 5; i++) {
        expect((await selfLink({ ...sender, code: wrongCode(request.code) })).statusCode).toBe(400);
      }
      const refused = await selfLink({ ...sender, code: request.code });
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3000);
      // Another sender is not held back by this one's failures.
      const other = await verifiedSender();
      const second = await issue();
      expect((await selfLink({ ...other.sender, code: second.code })).statusCode).toBe(201);
      clock.advance(3601);
      const fresh = await ask({ channel: 'telegram', external_id: request.external_id });
      const ok = await selfLink({ ...sender, code: fresh.json().code });
      expect(ok.statusCode).toBe(201);
      expect(ok.json().customer_id).toBe(customer.id);
    });

    it('successes do not use up the budget', async () => {
      const { sender } = await verifiedSender();
      for (let i = 0; i < 7; i++) {
        const request = await issue();
        expect((await selfLink({ ...sender, code: request.code })).statusCode).toBe(201);
      }
    });
  });

  describe('events and chat notices', () => {
    it('created, approved (with identity.linked and identity.verified) and rejected go out as events', async () => {
      const hook = await post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'] });
      expect(hook.statusCode).toBe(201);
      const customer = await createCustomer(t.app);
      const a = await issue();
      // A renewal is no new request: no event.
      const renewed = (await ask({ channel: 'telegram', external_id: a.external_id })).json();
      const redeemed = (await redeem({ code: renewed.code, customer_id: customer.id })).json();
      const b = await issue();
      await post(`/v1/link-requests/${b.id}/reject`);
      const c = await issue();
      await post(`/v1/link-requests/${c.id}/approve`, { customer_id: customer.id });
      // In the order they were written: the subscription's deliveries are numbered so.
      const events = await t.app.services.db.kysely
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
        .select(['e.type', 'e.payload'])
        .where('d.subscription_id', '=', hook.json().id)
        .orderBy('d.seq')
        .execute();
      const types = events.map((e) => e.type);
      expect(types.filter((type) => type.startsWith('link_request.'))).toEqual([
        'link_request.created',
        'link_request.approved',
        'link_request.created',
        'link_request.rejected',
        'link_request.created',
        'link_request.approved',
      ]);
      const data = (type: string, index = 0) =>
        JSON.parse(events.filter((e) => e.type === type)[index]?.payload ?? '{}').data;
      expect(data('link_request.created')).toEqual({
        link_request: expect.objectContaining({ id: a.id, status: 'pending' }),
      });
      expect(JSON.stringify(events.map((e) => e.payload))).not.toContain(renewed.code);
      expect(data('link_request.approved')).toEqual({
        link_request: expect.objectContaining({ id: a.id, status: 'approved' }),
        identity: redeemed.identity,
      });
      expect(data('link_request.rejected').link_request).toMatchObject({ id: b.id, status: 'rejected' });
      expect(data('link_request.approved', 1).identity.verified).toBe(false);
      // identity.verified only for the redeemed (verified) link; identity.linked for both.
      expect(types.filter((type) => type === 'identity.linked')).toHaveLength(2);
      expect(types.filter((type) => type === 'identity.verified')).toHaveLength(1);
      expect(data('identity.verified').identity.id).toBe(redeemed.identity.id);
    });

    it('a request from a chat leaves a chat notice when decided, once; an API request none', async () => {
      const services = t.app.services;
      const actor = { keyId: null, name: 'telegram-webhook' };
      const asked = await services.linkRequests.requestFromChat(actor, {
        channel: 'telegram',
        external_id: telegramId(),
        display_name: 'Chat Person',
        reply_to: { chat_id: 42 },
      });
      if (!asked.ok) throw new Error('requestFromChat failed');
      expect(asked.code).toMatch(CODE);
      expect(asked.instructions).toContain(asked.code);
      const renewed = await services.linkRequests.requestFromChat(actor, {
        channel: 'telegram',
        external_id: asked.link_request.external_id,
        reply_to: { chat_id: 42 },
      });
      expect(renewed).toMatchObject({ ok: true, created: false, link_request: { id: asked.link_request.id } });
      const customer = await createCustomer(t.app);
      expect(
        (await post(`/v1/link-requests/${asked.link_request.id}/approve`, { customer_id: customer.id })).statusCode,
      ).toBe(200);
      const apiRequest = await issue();
      await post(`/v1/link-requests/${apiRequest.id}/reject`);
      const notices = await services.db.kysely
        .selectFrom('chat_notices')
        .selectAll()
        .where('link_request_id', 'in', [asked.link_request.id, apiRequest.id])
        .execute();
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({
        link_request_id: asked.link_request.id,
        kind: 'link_request.approved',
        channel: 'telegram',
        status: 'pending',
        attempts: 0,
      });
      expect(JSON.parse(notices[0]?.reply_to ?? 'null')).toEqual({ chat_id: 42 });

      const linked = await services.linkRequests.requestFromChat(actor, {
        channel: 'telegram',
        external_id: asked.link_request.external_id,
        reply_to: { chat_id: 42 },
      });
      expect(linked).toEqual({ ok: false, reason: 'already_linked' });
    });

    it('linkFromChat links from a verified sender and tells failures apart only as the API does', async () => {
      const { sender, customer } = await verifiedSender();
      const actor = { keyId: null, name: 'telegram-webhook' };
      const request = await issue();
      const bad = await t.app.services.linkRequests.linkFromChat(actor, sender, wrongCode(request.code));
      expect(bad).toEqual({ ok: false, reason: 'invalid' });
      const good = await t.app.services.linkRequests.linkFromChat(actor, sender, request.code);
      expect(good).toMatchObject({ ok: true, identity: { customer_id: customer.id, verified_via: 'linked_identity' } });
    });
  });
});

describe.each(DIALECTS)('the pending cap on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { LINK_REQUESTS_MAX_PENDING: '2' });
  });
  afterAll(() => t.close());

  it('beyond LINK_REQUESTS_MAX_PENDING pending requests: 429; renewals still work', async () => {
    const ask = (external_id: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/link-requests',
        headers: t.admin,
        payload: { channel: 'telegram', external_id },
      });
    const a = await ask('501');
    expect(a.statusCode).toBe(201);
    expect((await ask('502')).statusCode).toBe(201);
    const refused = await ask('503');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ detail: 'Too many pending link requests; try again later' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
    expect((await ask('501')).statusCode).toBe(200);
    await t.app.inject({ method: 'POST', url: `/v1/link-requests/${a.json().id}/reject`, headers: t.admin });
    expect((await ask('503')).statusCode).toBe(201);
  });
});

describe.each(DIALECTS)('codes drawn alike on $name', (dialect) => {
  let t: TestApp;
  // Every code the same: what a collision of two live codes would be.
  const random = { int: () => 0, bytes: cryptoRandom.bytes };
  beforeAll(async () => {
    t = await buildTestApp(dialect, {}, { random });
  });
  afterAll(() => t.close());

  it('two live requests with one code: the code approves neither', async () => {
    const ask = (external_id: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/link-requests',
        headers: t.admin,
        payload: { channel: 'telegram', external_id },
      });
    const a = (await ask('601')).json();
    const b = (await ask('602')).json();
    expect(a.code).toBe('AAAAAAAA');
    expect(b.code).toBe(a.code);
    const customer = await createCustomer(t.app);
    const redeemed = await t.app.inject({
      method: 'POST',
      url: '/v1/link-requests/redeem',
      headers: t.admin,
      payload: { code: a.code, customer_id: customer.id },
    });
    expect(redeemed.json()).toEqual(INVALID);
    for (const id of [a.id, b.id]) {
      const shown = await t.app.inject({ url: `/v1/link-requests/${id}`, headers: t.admin });
      expect(shown.json().status).toBe('pending');
    }
  });
});
