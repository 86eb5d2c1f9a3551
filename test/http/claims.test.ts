import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode, ISO_UTC, ManualClock } from '../helpers/factories.js';

const INVALID = { detail: 'Invalid or expired claim code' };
/** Capitals and digits without 0, O, 1, I, L. */
const CODE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$/;
/** Many failures on purpose: the per-sender throttle must not be what the tests observe. */
const ENV = { RATE_LIMIT_CLAIM_PER_IDENTITY: '1000', RATE_LIMIT_CLAIM_PER_KEY: '0' };

let next = 700_000;
const telegramId = () => String(next++);

/** A different valid code than `code`, from the same alphabet. */
const wrongCode = (code: string) => (code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA');

describe.each(DIALECTS)('claim codes on $name', (dialect) => {
  let t: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await buildTestApp(dialect, ENV, { clock });
  });
  afterAll(() => t.close());

  const redeem = (payload: Record<string, unknown>, app: TestApp = t) =>
    app.app.inject({ method: 'POST', url: '/v1/customers/identities/claim', headers: app.admin, payload });

  async function unverified(body: Record<string, unknown> = {}, app: TestApp = t) {
    const customer = await createCustomer(app.app);
    const externalId = telegramId();
    const identity = await createIdentity(app.app, customer.id, {
      channel: 'telegram',
      external_id: externalId,
      ...body,
    });
    return { customer, identity, externalId: identity.external_id };
  }

  describe('generate', () => {
    it("returns 201 with the seed's body", async () => {
      const { customer, identity } = await unverified();
      const response = await t.app.inject({
        method: 'POST',
        url: `/v1/customers/${customer.id}/identities/${identity.id}/claim-code`,
        headers: t.admin,
      });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['code', 'expires_in_seconds', 'identity_id', 'instructions']);
      expect(body.code).toMatch(CODE);
      expect(body.expires_in_seconds).toBe(900);
      expect(body.identity_id).toBe(identity.id);
      expect(body.instructions).toBe(`Send /claim ${body.code} to the bot on telegram within 15 minutes.`);
    });

    it('draws every character from the alphabet without look-alikes', async () => {
      const { customer, identity } = await unverified();
      const codes: string[] = [];
      for (let i = 0; i < 40; i++) codes.push((await generateCode(t.app, customer.id, identity.id)).code);
      for (const code of codes) expect(code).toMatch(CODE);
      expect(codes.join('')).not.toMatch(/[0O1IL]/);
      expect(new Set(codes).size).toBeGreaterThan(35);
    });

    it('answers 409 for an identity already verified', async () => {
      const { customer, identity } = await unverified();
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        headers: t.admin,
        payload: { verified: true },
      });
      const response = await t.app.inject({
        method: 'POST',
        url: `/v1/customers/${customer.id}/identities/${identity.id}/claim-code`,
        headers: t.admin,
      });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ detail: expect.any(String) });
    });

    it('answers 404 for an unknown identity', async () => {
      const customer = await createCustomer(t.app);
      const response = await t.app.inject({
        method: 'POST',
        url: `/v1/customers/${customer.id}/identities/${randomUUID()}/claim-code`,
        headers: t.admin,
      });
      expect(response.statusCode).toBe(404);
    });

    it('stores the code only as a hash', async () => {
      const { customer, identity } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const rows = await t.app.services.db.kysely.selectFrom('claim_codes').selectAll().execute();
      const row = rows.find((r) => r.identity_id === identity.id);
      expect(row).toBeDefined();
      expect(row?.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(rows)).not.toContain(code);
    });
  });

  describe('redeem', () => {
    it('verifies the identity as owner, once', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      clock.advance(2);
      const response = await redeem({ channel: 'telegram', external_id: externalId, code });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ id: identity.id, verified: true, role_override: 'owner' });
      expect(body.verified_at).toMatch(ISO_UTC);
      expect(body.verified_at).toBe(clock.now().toISOString());

      const lookup = await t.app.inject({
        url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
        headers: t.admin,
      });
      expect(lookup.json()).toMatchObject({ verified: true, role_override: 'owner' });

      const spent = await redeem({ channel: 'telegram', external_id: externalId, code });
      expect(spent.statusCode).toBe(400);
      expect(spent.json()).toEqual(INVALID);
    });

    it('reads the code case-insensitively, ignoring spaces and hyphens', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const typed = ` ${code.slice(0, 3).toLowerCase()}- ${code.slice(3)} `;
      const response = await redeem({ channel: 'Telegram', external_id: ` ${externalId}`, code: typed });
      expect(response.statusCode, response.body).toBe(200);
    });

    it('normalizes the sender like the create (a phone number in another spelling)', async () => {
      const customer = await createCustomer(t.app);
      const identity = await createIdentity(t.app, customer.id, { channel: 'whatsapp', external_id: '+12025550173' });
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const response = await redeem({ channel: 'whatsapp', external_id: '+1 (202) 555-0173', code });
      expect(response.statusCode, response.body).toBe(200);
    });

    it('gives the same 400 for a wrong sender, a wrong code and an unknown sender', async () => {
      const { customer, identity, externalId } = await unverified();
      const other = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const attempts = [
        { channel: 'telegram', external_id: other.externalId, code },
        { channel: 'slack', external_id: externalId, code },
        { channel: 'telegram', external_id: telegramId(), code },
        { channel: 'telegram', external_id: externalId, code: wrongCode(code) },
      ];
      for (const payload of attempts) {
        const response = await redeem(payload);
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual(INVALID);
      }
      expect((await redeem({ channel: 'telegram', external_id: externalId, code })).statusCode).toBe(200);
    });

    it('a new code voids the last', async () => {
      const { customer, identity, externalId } = await unverified();
      const first = await generateCode(t.app, customer.id, identity.id);
      const second = await generateCode(t.app, customer.id, identity.id);
      if (first.code !== second.code) {
        const old = await redeem({ channel: 'telegram', external_id: externalId, code: first.code });
        expect(old.statusCode).toBe(400);
        expect(old.json()).toEqual(INVALID);
      }
      const current = await redeem({ channel: 'telegram', external_id: externalId, code: second.code });
      expect(current.statusCode).toBe(200);
    });

    it('voids the code after 5 failed attempts', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      for (let i = 0; i < 5; i++) {
        const response = await redeem({ channel: 'telegram', external_id: externalId, code: wrongCode(code) });
        expect(response.statusCode).toBe(400);
      }
      const right = await redeem({ channel: 'telegram', external_id: externalId, code });
      expect(right.statusCode).toBe(400);
      expect(right.json()).toEqual(INVALID);
      // A fresh code works again.
      const fresh = await generateCode(t.app, customer.id, identity.id);
      expect((await redeem({ channel: 'telegram', external_id: externalId, code: fresh.code })).statusCode).toBe(200);
    });

    it('still accepts the right code after 4 failed attempts', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      for (let i = 0; i < 4; i++) {
        await redeem({ channel: 'telegram', external_id: externalId, code: wrongCode(code) });
      }
      expect((await redeem({ channel: 'telegram', external_id: externalId, code })).statusCode).toBe(200);
    });

    it('refuses a code after its TTL, accepts it just before', async () => {
      const a = await unverified();
      const b = await unverified();
      const codeA = await generateCode(t.app, a.customer.id, a.identity.id);
      const codeB = await generateCode(t.app, b.customer.id, b.identity.id);
      clock.advance(899);
      expect((await redeem({ channel: 'telegram', external_id: a.externalId, code: codeA.code })).statusCode).toBe(200);
      clock.advance(2);
      const late = await redeem({ channel: 'telegram', external_id: b.externalId, code: codeB.code });
      expect(late.statusCode).toBe(400);
      expect(late.json()).toEqual(INVALID);
    });

    it('refuses a code of a deleted identity', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      await t.app.inject({
        method: 'DELETE',
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        headers: t.admin,
      });
      expect((await redeem({ channel: 'telegram', external_id: externalId, code })).statusCode).toBe(400);
    });

    const patch = (customerId: string, identityId: string, payload: Record<string, unknown>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customerId}/identities/${identityId}`,
        headers: t.admin,
        payload,
      });
    const lookup = async (externalId: string) => {
      const response = await t.app.inject({
        url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
        headers: t.admin,
      });
      expect(response.statusCode).toBe(200);
      return response.json<{ verified: boolean; role_override: string | null }>();
    };

    it('a verify by hand voids the live code: it makes no owner, not even after an unverify', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const verified = await patch(customer.id, identity.id, { verified: true, role_override: 'member' });
      expect(verified.statusCode).toBe(200);
      const refused = await redeem({ channel: 'telegram', external_id: externalId, code });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual(INVALID);
      expect(await lookup(externalId)).toMatchObject({ verified: true, role_override: 'member' });
      // Voided, not merely ignored while verified: unverified again, the old code still does nothing.
      expect((await patch(customer.id, identity.id, { verified: false })).statusCode).toBe(200);
      expect((await redeem({ channel: 'telegram', external_id: externalId, code })).statusCode).toBe(400);
      expect(await lookup(externalId)).toMatchObject({ verified: false, role_override: 'member' });
    });

    it('an unlink voids the live code: the same account linked again cannot use it', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      const unlinked = await t.app.inject({
        method: 'DELETE',
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        headers: t.admin,
      });
      expect(unlinked.statusCode).toBe(204);
      const relinked = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
      expect((await redeem({ channel: 'telegram', external_id: externalId, code })).statusCode).toBe(400);
      expect(await lookup(relinked.external_id)).toMatchObject({ verified: false, role_override: null });
    });

    it('unverifying drops the owner role a claim gave, in the very next lookup', async () => {
      const { customer, identity, externalId } = await unverified();
      const { code } = await generateCode(t.app, customer.id, identity.id);
      expect((await redeem({ channel: 'telegram', external_id: externalId, code })).statusCode).toBe(200);
      // Cached now: the unverify must reach the cache, not wait for its TTL.
      expect(await lookup(externalId)).toMatchObject({ verified: true, role_override: 'owner' });
      const response = await patch(customer.id, identity.id, { verified: false });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ verified: false, verified_at: null, role_override: null });
      expect(await lookup(externalId)).toMatchObject({ verified: false, role_override: null });
      const audit = await t.app.inject({ url: `/v1/audit?customer_id=${customer.id}`, headers: t.admin });
      const event = audit
        .json<{ items: { action: string; before: { role_override: string }; after: { role_override: null } }[] }>()
        .items.find((e) => e.action === 'identity.unverified');
      expect(event).toMatchObject({ before: { role_override: 'owner' }, after: { role_override: null } });
    });

    it('unverifying keeps the role the same request sets, and any role other than owner', async () => {
      for (const [role, payload, expected] of [
        ['owner', { verified: false, role_override: 'owner' }, 'owner'],
        ['owner', { verified: false, role_override: 'admin' }, 'admin'],
        ['member', { verified: false }, 'member'],
      ] as const) {
        const { customer, identity, externalId } = await unverified({ role_override: role });
        expect((await patch(customer.id, identity.id, { verified: true })).statusCode).toBe(200);
        expect(await lookup(externalId)).toMatchObject({ verified: true, role_override: role });
        const response = await patch(customer.id, identity.id, payload);
        expect(response.json()).toMatchObject({ verified: false, role_override: expected });
        expect(await lookup(externalId)).toMatchObject({ verified: false, role_override: expected });
      }
    });

    it('a PATCH verified:false on an identity that is not verified leaves its role alone', async () => {
      const { customer, identity, externalId } = await unverified({ role_override: 'owner' });
      const response = await patch(customer.id, identity.id, { verified: false });
      expect(response.json()).toMatchObject({ verified: false, role_override: 'owner' });
      expect(await lookup(externalId)).toMatchObject({ verified: false, role_override: 'owner' });
    });

    describe('instance scope', () => {
      it('an unscoped identity matches any instance_id', async () => {
        const { customer, identity, externalId } = await unverified();
        const { code } = await generateCode(t.app, customer.id, identity.id);
        const response = await redeem({
          channel: 'telegram',
          external_id: externalId,
          code,
          instance_id: randomUUID(),
        });
        expect(response.statusCode).toBe(200);
      });

      it('a scoped identity needs its own instance_id when one is given', async () => {
        const shop = randomUUID();
        const { customer, identity, externalId } = await unverified({ instance_id: shop });
        const { code } = await generateCode(t.app, customer.id, identity.id);
        const wrong = await redeem({ channel: 'telegram', external_id: externalId, code, instance_id: randomUUID() });
        expect(wrong.statusCode).toBe(400);
        expect(wrong.json()).toEqual(INVALID);
        const right = await redeem({ channel: 'telegram', external_id: externalId, code, instance_id: shop });
        expect(right.statusCode).toBe(200);
        expect(right.json()).toMatchObject({ id: identity.id, instance_id: shop, verified: true });
      });

      it('without instance_id, the code redeems the identity it was issued for, scoped or not', async () => {
        const shop = randomUUID();
        const externalId = telegramId();
        const a = await createCustomer(t.app);
        const b = await createCustomer(t.app);
        await createIdentity(t.app, a.id, { channel: 'telegram', external_id: externalId });
        const scoped = await createIdentity(t.app, b.id, {
          channel: 'telegram',
          external_id: externalId,
          instance_id: shop,
        });
        const { code } = await generateCode(t.app, b.id, scoped.id);
        const response = await redeem({ channel: 'telegram', external_id: externalId, code });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toMatchObject({ id: scoped.id, customer_id: b.id });
      });
    });

    it('answers 422 for a body without code or with an empty one', async () => {
      const missing = await redeem({ channel: 'telegram', external_id: '1' });
      expect(missing.statusCode).toBe(422);
      expect(missing.json().detail[0]).toMatchObject({ loc: ['body', 'code'], type: 'missing' });
      const empty = await redeem({ channel: 'telegram', external_id: '1', code: '' });
      expect(empty.statusCode).toBe(422);
      expect(empty.json().detail[0]).toMatchObject({ loc: ['body', 'code'], type: 'string_too_short' });
    });
  });
});

describe.each(DIALECTS)('claim codes with a short TTL on $name', (dialect) => {
  let t: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await buildTestApp(dialect, { ...ENV, CLAIM_CODE_TTL_SECONDS: '60' }, { clock });
  });
  afterAll(() => t.close());

  it('announces the TTL and expires the code after it', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
    const generated = await generateCode(t.app, customer.id, identity.id);
    expect(generated.expires_in_seconds).toBe(60);
    expect(generated.instructions).toContain('within 1 minute.');
    clock.advance(61);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: t.admin,
      payload: { channel: 'telegram', external_id: identity.external_id, code: generated.code },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(INVALID);
    // After expiry the operator can issue a new code that works.
    const fresh = await generateCode(t.app, customer.id, identity.id);
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: t.admin,
      payload: { channel: 'telegram', external_id: identity.external_id, code: fresh.code },
    });
    expect(again.statusCode).toBe(200);
  });
});

describe.each(DIALECTS)('the claim-code secret on $name', (dialect) => {
  let database: { url: string; dispose(): Promise<void> };
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    database = await createSharedDatabase(dialect);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await database.dispose();
  });

  /** A replica on the shared database, with the given CLAIM_CODE_SECRET (or none). */
  async function replica(secret?: string) {
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
    };
    if (secret) env.CLAIM_CODE_SECRET = secret;
    const app = await buildApp(loadConfig(env), { logger: false });
    await app.ready();
    apps.push(app);
    return app;
  }
  const redeemOn = (app: FastifyInstance, externalId: string, code: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: { 'x-api-key': ADMIN_KEY },
      payload: { channel: 'telegram', external_id: externalId, code },
    });

  it('replicas without a configured secret share the one kept in the database', async () => {
    const [a, b] = [await replica(), await replica()];
    const customer = await createCustomer(a);
    const identity = await createIdentity(a, customer.id, { channel: 'telegram', external_id: telegramId() });
    const { code } = await generateCode(a, customer.id, identity.id);
    expect((await redeemOn(b, identity.external_id, code)).statusCode).toBe(200);
  });

  it('a configured secret keys the hash: another secret cannot redeem, the same one can', async () => {
    const secret = 'a-long-claim-code-secret-0001';
    const [a, same, other] = [
      await replica(secret),
      await replica(secret),
      await replica('another-secret-entirely-0002'),
    ];
    const customer = await createCustomer(a);
    const identity = await createIdentity(a, customer.id, { channel: 'telegram', external_id: telegramId() });
    const { code } = await generateCode(a, customer.id, identity.id);
    expect((await redeemOn(other, identity.external_id, code)).statusCode).toBe(400);
    expect((await redeemOn(same, identity.external_id, code)).statusCode).toBe(200);
    const settings = JSON.stringify(await a.services.db.kysely.selectFrom('settings').selectAll().execute());
    expect(settings).not.toContain(secret);
  });
});
