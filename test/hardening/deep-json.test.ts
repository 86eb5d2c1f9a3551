import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey } from '../helpers/factories.js';

const TELEGRAM_SECRET = 'deep-json-telegram-secret-0123456789';

/** `levels` arrays inside one another, as JSON text: `[[[]]]` is 3. */
const arrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const TOO_DEEP = {
  type: 'value_error',
  loc: ['body'],
  msg: 'Value error, the JSON is nested more than 64 levels deep',
};

/**
 * JSON nested thousands of levels deep overflowed the stack of every recursive walk of a body (the
 * metadata size check, Ajv, the 422's path and its serialization): a 500. Every route that reads a
 * JSON body refuses it with the contract's 422 instead, and changes nothing.
 */
describe.each(DIALECTS)('deeply nested JSON on $name', (dialect) => {
  let t: TestApp;
  let runtime: Record<string, string>;
  let customerId: string;
  let otherId: string;
  let identityId: string;
  let webhookId: string;

  beforeAll(async () => {
    t = await buildTestApp(dialect, {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      TELEGRAM_BOT_TOKEN: '123456:deep-json-token',
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      TELEGRAM_BOT_USERNAME: 'DeepBot',
      TELEGRAM_API_BASE: 'http://127.0.0.1:9',
    });
    runtime = { 'x-api-key': (await createKey(t.app, 'runtime')).key };
    customerId = (await createCustomer(t.app, { email: 'deep@example.com', metadata: { kept: true } })).id;
    otherId = (await createCustomer(t.app, { email: 'other-deep@example.com' })).id;
    identityId = (await createIdentity(t.app, customerId, { channel: 'telegram', external_id: '64064' })).id;
    const webhook = await t.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: t.admin,
      payload: { url: 'http://127.0.0.1:9/hook', events: ['customer.created'] },
    });
    webhookId = webhook.json().id;
  });
  afterAll(() => t.close());

  const routes = () =>
    [
      { method: 'POST', url: '/v1/customers', headers: t.admin },
      { method: 'PATCH', url: `/v1/customers/${customerId}`, headers: t.admin },
      { method: 'POST', url: `/v1/customers/${customerId}/identities`, headers: t.admin },
      { method: 'PATCH', url: `/v1/customers/${customerId}/identities/${identityId}`, headers: t.admin },
      { method: 'POST', url: `/v1/customers/${customerId}/identities/${identityId}/aliases`, headers: t.admin },
      { method: 'POST', url: `/v1/customers/${customerId}/identities/${identityId}/move`, headers: t.admin },
      { method: 'POST', url: '/v1/customers/identities/claim', headers: runtime },
      { method: 'POST', url: `/v1/customers/${customerId}/merge`, headers: t.admin },
      { method: 'POST', url: '/v1/webhooks', headers: t.admin },
      { method: 'PATCH', url: `/v1/webhooks/${webhookId}`, headers: t.admin },
      { method: 'POST', url: '/v1/api-keys', headers: t.admin },
      {
        method: 'POST',
        url: '/v1/channels/telegram/webhook',
        headers: { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      },
    ] as const;

  /** Everything a refused request could have changed, as the API shows it. */
  const state = async () => {
    const read = async (url: string) => (await t.app.inject({ url, headers: t.admin })).body;
    return Promise.all([
      read('/v1/customers?limit=100'),
      read(`/v1/customers/${customerId}/identities`),
      read(`/v1/customers/${otherId}/identities`),
      read('/v1/webhooks'),
      // Without last_used_at: the runtime key is used by the refused claims.
      read('/v1/api-keys').then((text) => text.replace(/"last_used_at":(null|"[^"]*")/g, '')),
      read('/v1/merges'),
    ]);
  };

  const bodies: [string, string][] = [
    ['the whole body', arrays(8_000)],
    ['an unknown field', `{"email":"x@example.com","extra":${arrays(8_000)}}`],
    ['metadata', `{"email":"x@example.com","metadata":{"a":${arrays(8_000)}}}`],
    ['a known field of another type', `{"channel":${arrays(8_000)},"external_id":"1","code":"ABC234"}`],
    ['objects rather than arrays', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`],
    ['one level past the limit', `{"email":"x@example.com","extra":${arrays(64)}}`],
  ];

  for (const [where, payload] of bodies) {
    it(`answers 422 on every route that takes a JSON body, nested in ${where}, and changes nothing`, async () => {
      const before = await state();
      for (const route of routes()) {
        const response = await t.app.inject({
          method: route.method,
          url: route.url,
          headers: { ...route.headers, 'content-type': 'application/json' },
          payload,
        });
        expect(response.statusCode, `${route.method} ${route.url}: ${response.body.slice(0, 200)}`).toBe(422);
        expect(response.json(), `${route.method} ${route.url}`).toEqual({ detail: [TOO_DEEP] });
      }
      expect(await state()).toEqual(before);
    });
  }

  it('takes JSON nested up to the limit: 64 levels, counting the body itself', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...t.admin, 'content-type': 'application/json' },
      payload: `{"email":"limit-deep@example.com","extra":${arrays(63)}}`,
    });
    expect(response.statusCode, response.body).toBe(201);
    // Metadata keeps its own, lower limit, reported at its own place.
    const metadata = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...t.admin, 'content-type': 'application/json' },
      payload: `{"email":"meta-deep@example.com","metadata":{"a":${arrays(40)}}}`,
    });
    expect(metadata.statusCode).toBe(422);
    expect(metadata.json().detail[0]).toMatchObject({ loc: ['body', 'metadata'], msg: /nested more than 5 levels/ });
  });
});
