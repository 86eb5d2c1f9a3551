import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

// External ids as the API reads them: phone numbers that keep every digit (issue 18, item 2) and
// free-form ids in one Unicode form, without characters that hide or mimic others (item 17).

const lookupUrl = (channel: string, externalId: string) =>
  `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}`;

describe('DEFAULT_PHONE_REGION', () => {
  it('is optional, read case-insensitively, and refused at start when it is not a region with phone numbers', () => {
    expect(loadConfig({}).defaultPhoneRegion).toBeUndefined();
    expect(loadConfig({ DEFAULT_PHONE_REGION: ' us ' }).defaultPhoneRegion).toBe('US');
    for (const bad of ['XX', 'USA', '1', 'U']) {
      expect(() => loadConfig({ DEFAULT_PHONE_REGION: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ DEFAULT_PHONE_REGION: bad })).toThrow(/DEFAULT_PHONE_REGION must be a two-letter/);
    }
  });
});

describe.each(DIALECTS)('phone numbers without a region on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  const post = (customerId: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/v1/customers/${customerId}/identities`, headers: t.admin, payload });

  it('refuses a number without a country code instead of reading it as another country (+31 5551234)', async () => {
    // A Dutch number that 3105551234 used to be read as, a digit dropped.
    const dutch = await createCustomer(t.app);
    const linked = await createIdentity(t.app, dutch.id, { channel: 'sms', external_id: '+31 5551234' });
    expect(linked.external_id).toBe('+315551234');

    const other = await createCustomer(t.app);
    const response = await post(other.id, { channel: 'sms', external_id: '3105551234' });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0]).toMatchObject({
      loc: ['body', 'external_id'],
      type: 'value_error',
      msg: expect.stringMatching(/write it with \+ and the country code, e\.g\. \+14155552671/),
    });
    const listed = await t.app.inject({ url: `/v1/customers/${other.id}/identities`, headers: t.admin });
    expect(listed.json()).toEqual([]);

    // The runtime's lookup does not find the Dutch customer under the US digits either.
    const lookup = await t.app.inject({ url: lookupUrl('sms', '3105551234'), headers: t.admin });
    expect(lookup.statusCode).toBe(422);
    expect(lookup.json().detail[0]).toMatchObject({ loc: ['query', 'external_id'], type: 'value_error' });
  });

  it('refuses a bare number that would become an Egyptian one (2025551234)', async () => {
    const customer = await createCustomer(t.app);
    const response = await post(customer.id, { channel: 'phone', external_id: '2025551234' });
    expect(response.statusCode).toBe(422);
  });

  it('refuses a written country code whose number would lose a digit (+31 0 5551234)', async () => {
    const customer = await createCustomer(t.app);
    const response = await post(customer.id, { channel: 'sms', external_id: '+3105551234' });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].msg).toMatch(/would lose a digit/);
  });

  it("takes WhatsApp's bare international numbers with every digit, and finds them written any way", async () => {
    const customer = await createCustomer(t.app);
    const created = await post(customer.id, { channel: 'whatsapp', external_id: '14155552671' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ external_id: '+14155552671' });
    for (const spelling of ['14155552671', '+1 (415) 555-2671', '001 415 555 2671']) {
      const lookup = await t.app.inject({ url: lookupUrl('whatsapp', spelling), headers: t.admin });
      expect(lookup.statusCode, spelling).toBe(200);
      expect(lookup.json()).toMatchObject({ identity_id: created.json().id });
    }
  });

  it('answers a claim from a number without a country code with the same 422, and changes nothing', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'sms', external_id: '+1 310 555 9876' });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    const claim = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: t.admin,
      payload: { channel: 'sms', external_id: '3105559876', code },
    });
    expect(claim.statusCode).toBe(422);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: t.admin,
      payload: { channel: 'sms', external_id: '+13105559876', code },
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe.each(DIALECTS)('phone numbers with DEFAULT_PHONE_REGION=US on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { DEFAULT_PHONE_REGION: 'us' });
  });
  afterAll(() => t.close());

  const post = (customerId: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/v1/customers/${customerId}/identities`, headers: t.admin, payload });

  it('reads a number without a country code in the region, and finds it written any way', async () => {
    const customer = await createCustomer(t.app);
    const created = await post(customer.id, { channel: 'sms', external_id: '(310) 555-1234' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ external_id: '+13105551234' });
    for (const spelling of ['3105551234', '1 310 555 1234', '+1 310-555-1234']) {
      const lookup = await t.app.inject({ url: lookupUrl('sms', spelling), headers: t.admin });
      expect(lookup.statusCode, spelling).toBe(200);
      expect(lookup.json()).toMatchObject({ identity_id: created.json().id, external_id: '+13105551234' });
    }
  });

  it('refuses a number that is valid both in the region and as an international one, naming both', async () => {
    const customer = await createCustomer(t.app);
    const response = await post(customer.id, { channel: 'sms', external_id: '2015853415' });
    expect(response.statusCode).toBe(422);
    const { msg } = response.json().detail[0];
    expect(msg).toContain('+1 201 585 3415');
    expect(msg).toContain('+20 15 853415');
    const written = await post(customer.id, { channel: 'sms', external_id: '+1 201 585 3415' });
    expect(written.statusCode).toBe(201);
  });

  it('still takes a complete international number that is no number of the region', async () => {
    const customer = await createCustomer(t.app);
    const created = await post(customer.id, { channel: 'whatsapp', external_id: '41 44 668 18 00' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ external_id: '+41446681800' });
  });
});

describe.each(DIALECTS)('free-form external ids on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  const post = (customerId: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/v1/customers/${customerId}/identities`, headers: t.admin, payload });

  it('are one identity in every Unicode composition (NFC)', async () => {
    const customer = await createCustomer(t.app);
    const decomposed = 'Rene\u0301#42';
    const composed = 'Ren\u00e9#42';
    const created = await post(customer.id, { channel: 'mastodon', external_id: decomposed });
    expect(created.statusCode).toBe(201);
    expect(created.json().external_id).toBe(composed);
    const twin = await post((await createCustomer(t.app)).id, { channel: 'mastodon', external_id: composed });
    expect(twin.statusCode).toBe(409);
    for (const spelling of [composed, decomposed]) {
      const lookup = await t.app.inject({ url: lookupUrl('mastodon', spelling), headers: t.admin });
      expect(lookup.statusCode).toBe(200);
      expect(lookup.json()).toMatchObject({ identity_id: created.json().id });
    }
    // Email and Slack ids too, before their case is folded.
    const email = await post(customer.id, { channel: 'email', external_id: 'JOSE\u0301@EXAMPLE.COM' });
    expect(email.json().external_id).toBe('jos\u00e9@example.com');
    const lookup = await t.app.inject({ url: lookupUrl('email', 'jos\u00e9@example.com'), headers: t.admin });
    expect(lookup.json()).toMatchObject({ identity_id: email.json().id });
  });

  it.each([
    ['a zero-width space', 'steve\u200b'],
    ['a right-to-left override', 'admin\u202e'],
    ['a control character', 'steve\u0007'],
    ['a no-break space', 'steve\u00a0smith'],
  ])('refuse %s with a 422 that says why, and create nothing', async (_what, externalId) => {
    const customer = await createCustomer(t.app);
    for (const channel of ['mastodon', 'email', 'slack']) {
      const response = await post(customer.id, { channel, external_id: externalId });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({
        loc: ['body', 'external_id'],
        type: 'value_error',
        msg: expect.stringMatching(/must not contain control, invisible \(zero-width\), bidirectional-control/),
      });
      const lookup = await t.app.inject({ url: lookupUrl(channel, externalId), headers: t.admin });
      expect(lookup.statusCode).toBe(422);
    }
    const listed = await t.app.inject({ url: `/v1/customers/${customer.id}/identities`, headers: t.admin });
    expect(listed.json()).toEqual([]);
  });
});
