import type { AddressInfo } from 'node:net';
import { Webhook as ReferenceWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIdentityClient,
  type IdentityClient,
  NotFoundError,
  ValidationError,
  verifyWebhook,
  type WebhookEvent,
  WebhookVerificationError,
} from '../../packages/client/src/index.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { type Receiver, startReceiver } from '../webhooks/support/receiver.js';
import { buildWebhookApp } from '../webhooks/support/webhook-app.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('verifyWebhook against the standardwebhooks package', () => {
  const reference = new ReferenceWebhook(SECRET);
  const body = JSON.stringify({
    id: 'e1',
    type: 'identity.verified',
    created_at: '2026-01-01T00:00:00.000Z',
    data: { identity: { id: 'i1' } },
  });
  const now = new Date('2026-01-01T00:00:10.000Z');
  const signed = () => ({
    'webhook-id': 'e1',
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': reference.sign('e1', now, body),
  });

  it('accepts what the reference signs, and returns the typed event', () => {
    const event: WebhookEvent = verifyWebhook(SECRET, signed(), body, { now });
    expect(event.type).toBe('identity.verified');
    if (event.type === 'identity.verified') expect(event.data.identity.id).toBe('i1');
    // As bytes, and with fetch's Headers, too.
    expect(verifyWebhook(SECRET, new Headers(signed()), Buffer.from(body), { now }).id).toBe('e1');
  });

  it('accepts any one of several signatures', () => {
    const headers = {
      ...signed(),
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${signed()['webhook-signature']}`,
    };
    expect(verifyWebhook(SECRET, headers, body, { now }).id).toBe('e1');
  });

  it('refuses a changed body, another secret, a stale timestamp and missing headers', () => {
    expect(() => verifyWebhook(SECRET, signed(), body.replace('i1', 'i2'), { now })).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(`whsec_${Buffer.alloc(32, 8).toString('base64')}`, signed(), body, { now })).toThrow(
      WebhookVerificationError,
    );
    expect(() => verifyWebhook(SECRET, signed(), body, { now: new Date(now.getTime() + 301_000) })).toThrow(/too old/);
    expect(() => verifyWebhook(SECRET, { ...signed(), 'webhook-id': 'e2' }, body, { now })).toThrow(
      WebhookVerificationError,
    );
    expect(() => verifyWebhook(SECRET, { 'webhook-id': 'e1' }, body, { now })).toThrow(/Missing/);
  });

  it('signs exactly as the reference verifies (our signature, their check)', async () => {
    const { signatureOf } = await import('../../src/features/webhooks/signing.js');
    const seconds = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'e9',
      'webhook-timestamp': String(seconds),
      'webhook-signature': signatureOf(SECRET, 'e9', seconds, body),
    };
    expect(reference.verify(body, headers)).toEqual(JSON.parse(body));
  });
});

describe.each(DIALECTS)('the client manages webhooks on $name', (dialect) => {
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  let client: IdentityClient;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await buildWebhookApp(dialect);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    client = createIdentityClient({
      baseUrl: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`,
      apiKey: ADMIN_KEY,
    });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('creates, lists, updates, rotates, reads deliveries, re-sends and deletes', async () => {
    const hook = await client.createWebhook({ url: receiver.url, events: ['customer.created'], description: 'crm' });
    expect(hook.secret).toMatch(/^whsec_/);
    expect((await client.listWebhooks()).map((w) => w.id)).toContain(hook.id);
    expect(await client.getWebhook(hook.id)).not.toHaveProperty('secret');
    expect(await client.updateWebhook(hook.id, { description: null })).toMatchObject({ description: null });
    const { secret } = await client.rotateWebhookSecret(hook.id);

    const customer = await client.createCustomer({ email: 'webhook-client@example.com' });
    await receiver.waitFor(1);
    const delivered = receiver.received[0];
    const event = verifyWebhook(secret, delivered?.headers ?? {}, delivered?.body ?? '');
    expect(event.type).toBe('customer.created');
    if (event.type === 'customer.created') expect(event.data.customer.id).toBe(customer.id);

    await t.services.dispatcher.drain();
    const attempts = await client.listWebhookDeliveries(hook.id, { limit: 10 });
    expect(attempts).toEqual([expect.objectContaining({ event_id: event.id, attempt: 1, status_code: 200 })]);
    expect(await client.retryWebhookDelivery(hook.id, event.id)).toEqual({
      event_id: event.id,
      type: 'customer.created',
      status: 'pending',
    });
    await receiver.waitFor(2);
    expect(receiver.received[1]?.body).toBe(delivered?.body);

    await expect(client.createWebhook({ url: 'ftp://x', events: ['*'] })).rejects.toBeInstanceOf(ValidationError);
    await client.deleteWebhook(hook.id);
    await expect(client.getWebhook(hook.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
