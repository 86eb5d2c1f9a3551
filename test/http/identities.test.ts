import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, ISO_UTC, ManualClock } from '../helpers/factories.js';

interface Identity {
  id: string;
  customer_id: string;
  channel: string;
  external_id: string;
  instance_id: string | null;
  display_name: string | null;
  role_override: string | null;
  verified: boolean;
  verified_at: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** A telegram chat id nobody else in this file uses. */
let next = 100_000;
const telegramId = () => String(next++);

describe.each(DIALECTS)('identities on $name', (dialect) => {
  let t: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await buildTestApp(dialect, {}, { clock });
  });
  afterAll(() => t.close());

  const post = (customerId: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/v1/customers/${customerId}/identities`, headers: t.admin, payload });
  const patch = (customerId: string, identityId: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customerId}/identities/${identityId}`,
      headers: t.admin,
      payload,
    });
  const listOf = async (customerId: string, query = '') => {
    const response = await t.app.inject({ url: `/v1/customers/${customerId}/identities${query}`, headers: t.admin });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Identity[]>();
  };

  describe('create', () => {
    it('returns 201 with every field of the seed body and its defaults', async () => {
      const customer = await createCustomer(t.app);
      const response = await post(customer.id, { channel: 'telegram', external_id: telegramId() });
      expect(response.statusCode).toBe(201);
      const body = response.json<Identity>();
      expect(Object.keys(body).sort()).toEqual(
        [
          'aliases',
          'channel',
          'created_at',
          'customer_id',
          'display_name',
          'external_id',
          'id',
          'instance_id',
          'metadata',
          'role_override',
          'updated_at',
          'verified',
          'verified_at',
          'verified_via',
        ].sort(),
      );
      expect(body).toMatchObject({
        customer_id: customer.id,
        channel: 'telegram',
        instance_id: null,
        display_name: null,
        role_override: null,
        verified: false,
        verified_at: null,
        verified_via: null,
        aliases: [],
        metadata: {},
      });
      expect(body.created_at).toMatch(ISO_UTC);
    });

    it('keeps the optional fields it is given', async () => {
      const customer = await createCustomer(t.app);
      const instance = randomUUID();
      const body = {
        channel: 'telegram',
        external_id: telegramId(),
        instance_id: instance,
        display_name: 'Steve',
        role_override: 'owner',
        metadata: { lang: 'en' },
      };
      const response = await post(customer.id, body);
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject(body);
    });

    it.each([
      ['  Telegram ', ' 4242 ', 'telegram', '4242'],
      ['telegram', '-1001234567890', 'telegram', '-1001234567890'],
      ['whatsapp', '+1 (415) 555-2671', 'whatsapp', '+14155552671'],
      ['sms', '+44 20 7946 0958', 'sms', '+442079460958'],
      ['phone', ' +14155552671 ', 'phone', '+14155552671'],
      ['email', ' Steve@Acme.COM ', 'email', 'steve@acme.com'],
      ['SLACK', 'u024be7lh', 'slack', 'U024BE7LH'],
      ['mastodon', '  MixedCase#1 ', 'mastodon', 'MixedCase#1'],
      ['Discord', ' 0080351110224678912 ', 'discord', '80351110224678912'],
    ])('normalizes %j %j to %s %s', async (channel, externalId, wantChannel, wantId) => {
      const customer = await createCustomer(t.app);
      const response = await post(customer.id, { channel, external_id: externalId });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json()).toMatchObject({ channel: wantChannel, external_id: wantId });
    });

    it.each([
      ['9telegram', 'string_pattern_mismatch'],
      ['tele gram', 'string_pattern_mismatch'],
      ['a'.repeat(33), 'string_pattern_mismatch'],
      ['', 'string_too_short'],
    ])('answers 422 for the channel %j (%s)', async (channel, type) => {
      const customer = await createCustomer(t.app);
      const response = await post(customer.id, { channel, external_id: '1' });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'channel'], type });
    });

    it.each([
      ['telegram', 'abc', 'value_error'],
      ['telegram', '12.5', 'value_error'],
      ['whatsapp', 'not a phone', 'value_error'],
      ['discord', 'steve#1234', 'value_error'],
      ['discord', '-80351110224678912', 'value_error'],
      ['discord', '0', 'value_error'],
      ['discord', '1'.repeat(21), 'value_error'],
      ['sms', '+1 555', 'value_error'],
      ['other', '', 'string_too_short'],
      ['other', '   ', 'string_too_short'],
      ['other', 'x'.repeat(256), 'string_too_long'],
    ])('answers 422 for %s external_id %j (%s)', async (channel, externalId, type) => {
      const customer = await createCustomer(t.app);
      const response = await post(customer.id, { channel, external_id: externalId });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'external_id'], type });
    });

    it('treats two spellings of one phone number as the same identity (409)', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const first = await createIdentity(t.app, a.id, { channel: 'whatsapp', external_id: '+1 (212) 555-0143' });
      const response = await post(b.id, { channel: 'WhatsApp', external_id: '+12125550143' });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({
        detail: 'This channel identity is already linked to a customer',
        conflict: { customer_id: a.id, identity_id: first.id },
      });
    });

    it('answers 409 when the identity is linked already, to anyone', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const id = telegramId();
      await createIdentity(t.app, a.id, { channel: 'telegram', external_id: id });
      expect((await post(a.id, { channel: 'telegram', external_id: id })).statusCode).toBe(409);
      expect((await post(b.id, { channel: 'Telegram', external_id: ` ${id}` })).statusCode).toBe(409);
      expect(await listOf(b.id)).toEqual([]);
    });

    it('allows the same external_id in another instance scope, once per scope', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const id = telegramId();
      const instance = randomUUID();
      await createIdentity(t.app, a.id, { channel: 'telegram', external_id: id });
      const scoped = await post(b.id, { channel: 'telegram', external_id: id, instance_id: instance });
      expect(scoped.statusCode).toBe(201);
      expect(scoped.json()).toMatchObject({ instance_id: instance });
      const other = await post(a.id, { channel: 'telegram', external_id: id, instance_id: randomUUID() });
      expect(other.statusCode).toBe(201);
      const twice = await post(a.id, { channel: 'telegram', external_id: id, instance_id: instance });
      expect(twice.statusCode).toBe(409);
    });

    it('stores instance_id in canonical form, so that spellings of one UUID are one scope', async () => {
      const customer = await createCustomer(t.app);
      const instance = randomUUID();
      const id = telegramId();
      const upper = await post(customer.id, {
        channel: 'telegram',
        external_id: id,
        instance_id: instance.toUpperCase(),
      });
      expect(upper.statusCode).toBe(201);
      expect(upper.json().instance_id).toBe(instance);
      const bare = await post(customer.id, {
        channel: 'telegram',
        external_id: id,
        instance_id: instance.replaceAll('-', ''),
      });
      expect(bare.statusCode).toBe(409);
    });

    it('answers 404 for an unknown customer and 422 for a malformed instance_id', async () => {
      const unknown = await post(randomUUID(), { channel: 'telegram', external_id: telegramId() });
      expect(unknown.statusCode).toBe(404);
      const customer = await createCustomer(t.app);
      const bad = await post(customer.id, { channel: 'telegram', external_id: telegramId(), instance_id: 'nope' });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().detail[0]).toMatchObject({ loc: ['body', 'instance_id'], type: 'uuid_parsing' });
    });
  });

  describe('list', () => {
    it('lists oldest first, filtered by a normalized channel', async () => {
      const customer = await createCustomer(t.app);
      const made: Identity[] = [];
      for (const [channel, externalId] of [
        ['telegram', telegramId()],
        ['slack', `U${telegramId()}`],
        ['telegram', telegramId()],
      ] as const) {
        clock.advance(1);
        made.push((await createIdentity(t.app, customer.id, { channel, external_id: externalId })) as Identity);
      }
      expect((await listOf(customer.id)).map((i) => i.id)).toEqual(made.map((i) => i.id));
      const telegram = await listOf(customer.id, '?channel=Telegram');
      expect(telegram.map((i) => i.id)).toEqual([made[0]?.id, made[2]?.id]);
      expect(await listOf(customer.id, '?channel=mastodon')).toEqual([]);
    });

    it("lists only the customer's own identities", async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      await createIdentity(t.app, a.id, { channel: 'telegram', external_id: telegramId() });
      expect(await listOf(b.id)).toEqual([]);
    });

    it('answers 404 for an unknown customer and 422 for a malformed id', async () => {
      const unknown = await t.app.inject({ url: `/v1/customers/${randomUUID()}/identities`, headers: t.admin });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({ detail: expect.any(String) });
      const bad = await t.app.inject({ url: '/v1/customers/123/identities', headers: t.admin });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().detail[0]).toMatchObject({ loc: ['path', 'customer_id'], type: 'uuid_parsing' });
    });
  });

  describe('patch', () => {
    it('sets display_name, metadata and role_override, and moves updated_at', async () => {
      const customer = await createCustomer(t.app);
      const identity = (await createIdentity(t.app, customer.id, {
        channel: 'telegram',
        external_id: telegramId(),
      })) as Identity;
      clock.advance(3);
      const response = await patch(customer.id, identity.id, {
        display_name: 'Steve',
        metadata: { lang: 'de' },
        role_override: 'owner',
      });
      expect(response.statusCode).toBe(200);
      const body = response.json<Identity>();
      expect(body).toMatchObject({ display_name: 'Steve', metadata: { lang: 'de' }, role_override: 'owner' });
      expect(body.updated_at > identity.updated_at).toBe(true);
      const cleared = await patch(customer.id, identity.id, { display_name: null, role_override: null });
      expect(cleared.json()).toMatchObject({ display_name: null, role_override: null, metadata: { lang: 'de' } });
    });

    it('verified true sets verified_at, keeps it when already verified; false clears it', async () => {
      const customer = await createCustomer(t.app);
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
      clock.advance(1);
      const verified = (await patch(customer.id, identity.id, { verified: true })).json<Identity>();
      expect(verified.verified).toBe(true);
      expect(verified.verified_at).toBe(clock.now().toISOString());
      clock.advance(60);
      const again = (await patch(customer.id, identity.id, { verified: true })).json<Identity>();
      expect(again.verified_at).toBe(verified.verified_at);
      const unverified = (await patch(customer.id, identity.id, { verified: false })).json<Identity>();
      expect(unverified).toMatchObject({ verified: false, verified_at: null });
      const listed = await listOf(customer.id);
      expect(listed[0]).toMatchObject({ verified: false, verified_at: null });
    });

    it('changes nothing on {}', async () => {
      const customer = await createCustomer(t.app);
      const identity = (await createIdentity(t.app, customer.id, {
        channel: 'telegram',
        external_id: telegramId(),
        display_name: 'Kept',
        metadata: { a: 1 },
      })) as Identity;
      clock.advance(10);
      const response = await patch(customer.id, identity.id, {});
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(identity);
    });

    it("reads verified as pydantic's lax mode does", async () => {
      const customer = await createCustomer(t.app);
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
      for (const [given, verified] of [
        ['yes', true],
        ['off', false],
        [1, true],
        ['FALSE', false],
        ['t', true],
        [0, false],
      ] as const) {
        const response = await patch(customer.id, identity.id, { verified: given });
        expect(response.statusCode, String(given)).toBe(200);
        expect(response.json().verified).toBe(verified);
      }
    });

    it('answers 422 bool_type for a verified that is not a boolean', async () => {
      const customer = await createCustomer(t.app);
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: telegramId() });
      const response = await patch(customer.id, identity.id, { verified: ['yes'] });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'verified'], type: 'bool_type' });
    });
  });

  describe('delete and ownership', () => {
    it('deletes with 204; the identity is gone from the list and the lookup', async () => {
      const customer = await createCustomer(t.app);
      const externalId = telegramId();
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
      const url = `/v1/customers/${customer.id}/identities/${identity.id}`;
      const response = await t.app.inject({ method: 'DELETE', url, headers: t.admin });
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(await listOf(customer.id)).toEqual([]);
      const lookup = await t.app.inject({
        url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
        headers: t.admin,
      });
      expect(lookup.statusCode).toBe(404);
      expect((await t.app.inject({ method: 'DELETE', url, headers: t.admin })).statusCode).toBe(404);
      // The identity can be linked again.
      await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    });

    it("answers 404 for an identity under another customer's path, and changes nothing", async () => {
      const owner = await createCustomer(t.app);
      const stranger = await createCustomer(t.app);
      const identity = await createIdentity(t.app, owner.id, { channel: 'telegram', external_id: telegramId() });
      const base = `/v1/customers/${stranger.id}/identities/${identity.id}`;
      expect((await patch(stranger.id, identity.id, { display_name: 'Hijacked' })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'DELETE', url: base, headers: t.admin })).statusCode).toBe(404);
      const code = await t.app.inject({ method: 'POST', url: `${base}/claim-code`, headers: t.admin });
      expect(code.statusCode).toBe(404);
      expect(code.json()).toEqual({ detail: expect.any(String) });
      const [kept] = await listOf(owner.id);
      expect(kept).toMatchObject({ id: identity.id, display_name: null });
    });

    it('answers 404 for an unknown identity and 422 for a malformed identity id', async () => {
      const customer = await createCustomer(t.app);
      expect((await patch(customer.id, randomUUID(), {})).statusCode).toBe(404);
      const bad = await patch(customer.id, 'xyz', {});
      expect(bad.statusCode).toBe(422);
      expect(bad.json().detail[0]).toMatchObject({ loc: ['path', 'identity_id'], type: 'uuid_parsing' });
    });
  });
});
