import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createKey, ISO_UTC } from '../helpers/factories.js';
import { admin, buildWebhookApp, createWebhook } from './support/webhook-app.js';

describe.each(DIALECTS)('webhook subscriptions ($name)', (dialect) => {
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  beforeAll(async () => {
    t = await buildWebhookApp(dialect);
  });
  afterAll(() => t.close());

  it('creates a subscription and shows its secret only then', async () => {
    const created = await createWebhook(t.app, {
      url: 'https://crm.example.com/hooks',
      events: ['identity.verified', 'claim.redeemed'],
      description: 'CRM',
    });
    expect(created).toMatchObject({
      url: 'https://crm.example.com/hooks',
      events: ['identity.verified', 'claim.redeemed'],
      description: 'CRM',
      enabled: true,
    });
    expect(created.created_at).toMatch(ISO_UTC);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);

    const one = await t.app.inject({ method: 'GET', url: `/v1/webhooks/${created.id}`, headers: admin });
    expect(one.statusCode).toBe(200);
    expect(one.json()).not.toHaveProperty('secret');
    expect(one.json()).toMatchObject({ id: created.id, events: ['identity.verified', 'claim.redeemed'] });
    const list = await t.app.inject({ method: 'GET', url: '/v1/webhooks', headers: admin });
    expect(list.json()).toContainEqual(one.json());
    expect(list.body).not.toContain(created.secret);
  });

  it('keeps "*" alone when it is listed', async () => {
    const created = await createWebhook(t.app, { url: 'https://a.example.com/', events: ['identity.linked', '*'] });
    expect(created.events).toEqual(['*']);
  });

  it('updates, disables and deletes', async () => {
    const created = await createWebhook(t.app, { url: 'https://b.example.com/', events: ['*'] });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/webhooks/${created.id}`,
      headers: admin,
      payload: { enabled: false, events: ['customer.created'], description: 'off for now' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ enabled: false, events: ['customer.created'], description: 'off for now' });
    const same = await t.app.inject({
      method: 'PATCH',
      url: `/v1/webhooks/${created.id}`,
      headers: admin,
      payload: {},
    });
    expect(same.json()).toEqual(patched.json());

    const deleted = await t.app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}`, headers: admin });
    expect(deleted.statusCode).toBe(204);
    const gone = await t.app.inject({ method: 'GET', url: `/v1/webhooks/${created.id}`, headers: admin });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ detail: 'Webhook not found' });
    const again = await t.app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}`, headers: admin });
    expect(again.statusCode).toBe(404);
  });

  it('rotates the secret', async () => {
    const created = await createWebhook(t.app, { url: 'https://c.example.com/', events: ['*'] });
    const rotated = await t.app.inject({
      method: 'POST',
      url: `/v1/webhooks/${created.id}/rotate-secret`,
      headers: admin,
    });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(created.secret);
    expect(rotated.json()).toMatchObject({ id: created.id, url: created.url });
  });

  it('refuses what is not a subscription with a 422 and writes nothing', async () => {
    const before = (await t.app.inject({ method: 'GET', url: '/v1/webhooks', headers: admin })).json();
    const cases: [Record<string, unknown>, (string | number)[], string][] = [
      [{ url: 'ftp://example.com/x', events: ['*'] }, ['body', 'url'], 'value_error'],
      [{ url: 'not a url', events: ['*'] }, ['body', 'url'], 'value_error'],
      [{ url: 'javascript:alert(1)', events: ['*'] }, ['body', 'url'], 'value_error'],
      [{ url: 'https://example.com/', events: ['identity.exploded'] }, ['body', 'events', 0], 'literal_error'],
      [{ url: 'https://example.com/', events: [] }, ['body', 'events'], 'value_error'],
      [{ url: 'https://example.com/' }, ['body', 'events'], 'missing'],
      [{ events: ['*'] }, ['body', 'url'], 'missing'],
    ];
    for (const [payload, loc, type] of cases) {
      const response = await t.app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ loc, type });
    }
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/v1/webhooks/${(await createWebhook(t.app, { url: 'https://d.example.com/', events: ['*'] })).id}`,
      headers: admin,
      payload: { url: 'file:///etc/passwd' },
    });
    expect(patch.statusCode).toBe(422);
    const after = (await t.app.inject({ method: 'GET', url: '/v1/webhooks', headers: admin })).json();
    expect(after).toHaveLength(before.length + 1);
  });

  it('is for admin keys only', async () => {
    const runtime = await createKey(t.app, 'runtime');
    const response = await t.app.inject({ method: 'GET', url: '/v1/webhooks', headers: { 'x-api-key': runtime.key } });
    expect(response.statusCode).toBe(403);
    const anonymous = await t.app.inject({ method: 'GET', url: '/v1/webhooks' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('answers 404 for deliveries and retries of an unknown subscription or event', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const list = await t.app.inject({ method: 'GET', url: `/v1/webhooks/${unknown}/deliveries`, headers: admin });
    expect(list.statusCode).toBe(404);
    const created = await createWebhook(t.app, { url: 'https://e.example.com/', events: ['*'] });
    const retry = await t.app.inject({
      method: 'POST',
      url: `/v1/webhooks/${created.id}/deliveries/${unknown}/retry`,
      headers: admin,
    });
    expect(retry.statusCode).toBe(404);
    expect(retry.json()).toEqual({ detail: 'Event not found' });
  });
});

describe.each(DIALECTS)('webhook URLs without WEBHOOK_ALLOW_PRIVATE_URLS ($name)', (dialect) => {
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  beforeAll(async () => {
    t = await buildWebhookApp(
      dialect,
      { WEBHOOK_ALLOW_PRIVATE_URLS: 'false' },
      {
        resolveHost: async (host) => {
          if (host === 'public.example.test') return [{ address: '93.184.216.34', family: 4 }];
          if (host === 'sneaky.example.test')
            return [
              { address: '93.184.216.34', family: 4 },
              { address: '10.0.0.7', family: 4 },
            ];
          if (host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
          if (host === 'compatible.example.test') return [{ address: '::7f00:1', family: 6 }];
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        },
      },
    );
  });
  afterAll(() => t.close());

  it.each([
    'http://127.0.0.1:8080/hooks',
    'http://localhost/hooks',
    'http://[::1]/hooks',
    'http://10.1.2.3/',
    'http://192.168.0.10/',
    'http://172.16.5.4/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://[::ffff:127.0.0.1]/',
    // IPv4 inside IPv6: compatible (deprecated), translated (RFC 6145), NAT64, local NAT64, 6to4, Teredo.
    'http://[::7f00:1]/',
    'http://[::127.0.0.1]/',
    'http://[::a00:7]/',
    'http://[::ffff:0:7f00:1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[64:ff9b:1::a00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http://compatible.example.test/',
    'http://0.0.0.0/',
    'http://100.64.0.1/',
    'http://sneaky.example.test/',
    'http://nowhere.example.test/',
  ])('refuses %s', async (url) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: admin,
      payload: { url, events: ['*'] },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'url'], type: 'value_error' });
  });

  it('accepts a public address', async () => {
    const created = await createWebhook(t.app, { url: 'https://public.example.test/hooks', events: ['*'] });
    expect(created.url).toBe('https://public.example.test/hooks');
    const ip = await createWebhook(t.app, { url: 'http://93.184.216.34/hooks', events: ['*'] });
    expect(ip.url).toBe('http://93.184.216.34/hooks');
  });
});
