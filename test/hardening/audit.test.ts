import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey, generateCode } from '../helpers/factories.js';

interface AuditEvent {
  id: string;
  at: string;
  actor_key_id: string | null;
  actor: string;
  action: string;
  customer_id: string | null;
  identity_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe.each(DIALECTS)('audit trail on $name', (dialect) => {
  let t: TestApp;
  let adminKeyId: string;
  /** Every secret the test handed out; none may appear in any event. */
  const secrets: string[] = [ADMIN_KEY];

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    const keys = (await t.app.inject({ url: '/v1/api-keys', headers: t.admin })).json<{ id: string; name: string }[]>();
    adminKeyId = keys.find((k) => k.name === 'bootstrap')?.id ?? '';
  });
  afterAll(() => t.close());

  async function events(query: string, headers = t.admin) {
    const response = await t.app.inject({ url: `/v1/audit?${query}`, headers });
    expect(response.statusCode).toBe(200);
    return response.json<{ items: AuditEvent[]; next_cursor: string | null }>();
  }

  /** The raw stored rows too, so that no secret hides in a column the API does not show. */
  async function storedText(): Promise<string> {
    const rows = await t.app.services.db.kysely.selectFrom('audit_events').selectAll().execute();
    return JSON.stringify(rows);
  }

  it('records customer and identity create, update, verify and delete with the acting key and before/after', async () => {
    const customer = await createCustomer(t.app, { name: 'Before' });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}`,
      headers: t.admin,
      payload: { name: 'After', metadata: { plan: 'pro' } },
    });
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '1001' });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers: t.admin,
      payload: { display_name: 'Steve' },
    });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers: t.admin,
      payload: { verified: true },
    });
    await t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers: t.admin,
    });
    await t.app.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers: t.admin });

    const { items } = await events(`customer_id=${customer.id}`);
    expect(items.map((e) => e.action)).toEqual([
      'customer.deleted',
      'identity.deleted',
      'identity.verified',
      'identity.updated',
      'identity.created',
      'customer.updated',
      'customer.created',
    ]);
    for (const event of items) {
      expect(event.actor_key_id).toBe(adminKeyId);
      expect(event.actor).toBe('bootstrap');
      expect(Number.isNaN(Date.parse(event.at))).toBe(false);
      expect(event.customer_id).toBe(customer.id);
    }
    const byAction = Object.fromEntries(items.map((e) => [e.action, e]));
    expect(byAction['customer.created']?.after).toMatchObject({ id: customer.id, name: 'Before' });
    expect(byAction['customer.updated']?.before).toMatchObject({ name: 'Before', metadata: {} });
    expect(byAction['customer.updated']?.after).toMatchObject({ name: 'After', metadata: { plan: 'pro' } });
    expect(byAction['identity.updated']?.before).toMatchObject({ display_name: null });
    expect(byAction['identity.updated']?.after).toMatchObject({ display_name: 'Steve' });
    expect(byAction['identity.verified']?.after).toMatchObject({ verified: true });
    expect(byAction['identity.deleted']?.before).toMatchObject({ id: identity.id, external_id: '1001' });
    expect(byAction['customer.deleted']?.before).toMatchObject({ id: customer.id, name: 'After' });

    const forIdentity = await events(`identity_id=${identity.id}`);
    expect(forIdentity.items.map((e) => e.action)).toEqual([
      'identity.deleted',
      'identity.verified',
      'identity.updated',
      'identity.created',
    ]);
  });

  it('records codes issued and claims succeeded or failed, never the code, with the runtime key as actor', async () => {
    const runtime = await createKey(t.app, 'runtime', 'bot');
    secrets.push(runtime.key);
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'slack', external_id: 'U123' });
    const first = await generateCode(t.app, customer.id, identity.id);
    const wrong = first.code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
    const claim = (code: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/customers/identities/claim',
        headers: { 'x-api-key': runtime.key },
        payload: { channel: 'slack', external_id: 'u123', code },
      });
    expect((await claim(wrong)).statusCode).toBe(400);
    const second = await generateCode(t.app, customer.id, identity.id);
    expect((await claim(second.code)).statusCode).toBe(200);
    secrets.push(first.code, second.code);

    const { items } = await events(`identity_id=${identity.id}`);
    expect(items.map((e) => e.action)).toEqual([
      'claim.succeeded',
      'claim_code.issued',
      'claim.failed',
      'claim_code.issued',
      'identity.created',
    ]);
    const [succeeded, issued, failed] = items;
    expect(succeeded?.actor_key_id).toBe(runtime.id);
    expect(succeeded?.actor).toBe('bot');
    expect(succeeded?.before).toMatchObject({ verified: false });
    expect(succeeded?.after).toMatchObject({ verified: true, role_override: 'owner' });
    expect(issued?.actor_key_id).toBe(adminKeyId);
    expect(issued?.after).toEqual({ expires_at: expect.any(String) });
    expect(failed?.actor_key_id).toBe(runtime.id);
    expect(failed?.after).toEqual({ attempts: 1, voided: false });
  });

  it('records keys created and revoked, without the key or its hash', async () => {
    const key = await createKey(t.app, 'runtime', 'short-lived');
    secrets.push(key.key);
    const revoked = await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: t.admin });
    expect(revoked.statusCode).toBe(204);
    const { items } = await events('limit=200');
    const created = items.find((e) => e.action === 'api_key.created' && e.after?.id === key.id);
    const gone = items.find((e) => e.action === 'api_key.revoked' && e.before?.id === key.id);
    expect(created?.after).toMatchObject({ name: 'short-lived', scope: 'runtime' });
    expect(created?.actor_key_id).toBe(adminKeyId);
    expect(gone?.actor_key_id).toBe(adminKeyId);
  });

  it('never stores a secret: no key, no code, no hash', async () => {
    const stored = await storedText();
    const hashes = await t.app.services.db.kysely.selectFrom('api_keys').select('key_hash').execute();
    const codeHashes = await t.app.services.db.kysely.selectFrom('claim_codes').select('code_hash').execute();
    expect(hashes.length).toBeGreaterThan(0);
    for (const secret of [...secrets, ...hashes.map((h) => h.key_hash), ...codeHashes.map((h) => h.code_hash)]) {
      expect(stored).not.toContain(secret);
    }
    expect(stored).not.toMatch(/key_hash|code_hash|"key"|"code"/);
  });

  it('pages newest first with a cursor, without repeats or gaps', async () => {
    const customer = await createCustomer(t.app);
    for (let i = 0; i < 6; i++) {
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}`,
        headers: t.admin,
        payload: { name: `name ${i}` },
      });
    }
    const all = (await events(`customer_id=${customer.id}&limit=200`)).items;
    expect(all).toHaveLength(7);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: AuditEvent[]; next_cursor: string | null } = await events(
        `customer_id=${customer.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
    const times = all.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('is for admins only, and checks its query', async () => {
    const runtime = await createKey(t.app, 'runtime');
    const forbidden = await t.app.inject({ url: '/v1/audit', headers: { 'x-api-key': runtime.key } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toEqual({ detail: expect.any(String) });
    expect((await t.app.inject({ url: '/v1/audit' })).statusCode).toBe(401);
    const badId = await t.app.inject({ url: '/v1/audit?customer_id=nope', headers: t.admin });
    expect(badId.statusCode).toBe(422);
    expect(badId.json().detail[0]).toMatchObject({ loc: ['query', 'customer_id'], type: 'uuid_parsing' });
    const badLimit = await t.app.inject({ url: '/v1/audit?limit=0', headers: t.admin });
    expect(badLimit.json().detail[0]).toMatchObject({ loc: ['query', 'limit'], type: 'greater_than_equal' });
    const badCursor = await t.app.inject({ url: '/v1/audit?cursor=garbage', headers: t.admin });
    expect(badCursor.statusCode).toBe(422);
    expect(badCursor.json().detail[0]).toMatchObject({ loc: ['query', 'cursor'] });
  });

  it('records nothing for a change that failed', async () => {
    const customer = await createCustomer(t.app);
    const before = (await events('limit=200')).items.length;
    const taken = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: t.admin,
      payload: { email: customer.email },
    });
    expect(taken.statusCode).toBe(409);
    expect((await events('limit=200')).items.length).toBe(before);
  });

  it('writes the event in the same transaction: no event, no change', async () => {
    const db = t.app.services.db.kysely;
    await sql`alter table audit_events rename to audit_events_away`.execute(db);
    try {
      const count = async () =>
        Number((await sql<{ n: number }>`select count(*) as n from customers`.execute(db)).rows[0]?.n);
      const before = await count();
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: t.admin,
        payload: { email: 'atomic@example.com' },
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ detail: 'Internal Server Error' });
      expect(await count()).toBe(before);
    } finally {
      await sql`alter table audit_events_away rename to audit_events`.execute(db);
    }
  });
});
