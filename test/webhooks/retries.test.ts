import { once } from 'node:events';
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_SCHEDULE_SECONDS } from '../../src/features/webhooks/webhooks.js';
import type { DeliveryAttempt } from '../../src/features/webhooks/webhooks.service.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, ManualClock } from '../helpers/factories.js';
import { type Answer, type Receiver, startReceiver } from './support/receiver.js';
import { admin, buildWebhookApp, createWebhook } from './support/webhook-app.js';

// The delivery loop does not run on its own here: each test sends what is due with drain(), and
// moves the clock to make retries due. No test sleeps for a back-off.
describe.each(DIALECTS)('webhook retries and safety ($name)', (dialect) => {
  const clock = new ManualClock(Date.parse('2026-06-01T12:00:00.000Z'));
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  let receiver: Receiver;
  let answers: Answer[] = [];
  beforeAll(async () => {
    t = await buildWebhookApp(
      dialect,
      { WEBHOOK_DELIVERY_ENABLED: 'false', WEBHOOK_TIMEOUT_SECONDS: '1' },
      {
        clock,
        // "rebound.example.test" points at the receiver (127.0.0.1): allowed only where private URLs are.
        resolveHost: async (host) =>
          host === 'rebound.example.test'
            ? [{ address: '127.0.0.1', family: 4 }]
            : [{ address: '93.184.216.34', family: 4 }],
      },
    );
    receiver = await startReceiver((_r, index) => answers[index] ?? 200);
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });
  afterEach(async () => {
    for (const hook of (await t.app.inject({ method: 'GET', url: '/v1/webhooks', headers: admin })).json<
      { id: string }[]
    >()) {
      await t.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin });
    }
    receiver.received.length = 0;
    answers = [];
  });

  const attempts = async (hookId: string) =>
    (await t.app.inject({ method: 'GET', url: `/v1/webhooks/${hookId}/deliveries`, headers: admin })).json<
      DeliveryAttempt[]
    >();

  it('retries with growing back-off, keeping later events behind the first', async () => {
    answers = [500, 503];
    const hook = await createWebhook(t.app, { url: receiver.url, events: ['customer.created'] });
    const first = await createCustomer(t.app);
    const second = await createCustomer(t.app);

    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(1);
    expect((await attempts(hook.id))[0]).toMatchObject({ attempt: 1, status_code: 500, delivery_status: 'pending' });

    // Not due yet: nothing goes out, and the second event waits behind the first.
    clock.advance(9);
    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(1);

    clock.advance(1);
    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(2);
    clock.advance(59);
    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(2);
    clock.advance(1);
    await t.services.dispatcher.drain();
    // The third attempt succeeded; then the second event went out.
    expect(receiver.received.map((r) => r.event.data.customer?.id)).toEqual([first.id, first.id, first.id, second.id]);
    expect(new Set(receiver.received.slice(0, 3).map((r) => r.headers['webhook-id'])).size).toBe(1);
    const list = await attempts(hook.id);
    expect(list).toHaveLength(4);
    const ofFirst = list.filter((a) => a.event_id === receiver.received[0]?.event.id);
    expect(ofFirst.map((a) => [a.attempt, a.status_code])).toEqual([
      [3, 200],
      [2, 503],
      [1, 500],
    ]);
    expect(list.every((a) => a.delivery_status === 'delivered')).toBe(true);
  });

  it('gives up after about a day, marks the delivery failed, and moves on', async () => {
    answers = Array.from({ length: 20 }, () => 500);
    const hook = await createWebhook(t.app, { url: receiver.url, events: ['customer.created'] });
    await createCustomer(t.app);
    await t.services.dispatcher.drain();
    let elapsed = 0;
    for (const wait of RETRY_SCHEDULE_SECONDS) {
      clock.advance(wait);
      elapsed += wait;
      await t.services.dispatcher.drain();
    }
    expect(elapsed).toBeGreaterThan(20 * 3600);
    expect(elapsed).toBeLessThanOrEqual(24 * 3600);
    expect(receiver.received).toHaveLength(RETRY_SCHEDULE_SECONDS.length + 1);
    const list = await attempts(hook.id);
    expect(list[0]).toMatchObject({
      attempt: RETRY_SCHEDULE_SECONDS.length + 1,
      status_code: 500,
      delivery_status: 'failed',
    });
    clock.advance(48 * 3600);
    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(RETRY_SCHEDULE_SECONDS.length + 1);

    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/webhook_deliveries_total\{outcome="failed"\} [1-9]/);
    expect(metrics).toMatch(/webhook_deliveries_total\{outcome="retrying"\} [1-9]/);
  });

  it('reports the outbox depth and the age of its oldest event in /metrics', async () => {
    answers = [500];
    await createWebhook(t.app, { url: receiver.url, events: ['customer.created'] });
    await createCustomer(t.app);
    await createCustomer(t.app);
    await t.services.dispatcher.drain();
    clock.advance(5);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^webhook_outbox_depth 2$/m);
    expect(metrics).toMatch(/^webhook_outbox_oldest_age_seconds 5$/m);
  });

  it('does not follow redirects, and reads only the start of an endless answer', async () => {
    const redirect = await startReceiver(() => 302);
    // A 200 whose body never ends: the attempt is over once a few KiB are read, not at the timeout.
    const endless = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const timer = setInterval(() => response.write(chunk), 5);
      response.on('close', () => clearInterval(timer));
    });
    endless.listen(0, '127.0.0.1');
    await once(endless, 'listening');
    try {
      const hookA = await createWebhook(t.app, { url: redirect.url, events: ['customer.created'] });
      const hookB = await createWebhook(t.app, {
        url: `http://127.0.0.1:${(endless.address() as { port: number }).port}/`,
        events: ['customer.created'],
      });
      await createCustomer(t.app);
      await t.services.dispatcher.drain();
      expect((await attempts(hookA.id))[0]).toMatchObject({ status_code: 302, delivery_status: 'pending' });
      expect((await attempts(hookB.id))[0]).toMatchObject({ status_code: 200, delivery_status: 'delivered' });
    } finally {
      await redirect.close();
      endless.closeAllConnections();
      endless.close();
    }
  });

  it('cuts off a receiver that hangs without holding up the others', async () => {
    const hanging = await startReceiver(() => 'hang');
    try {
      const slow = await createWebhook(t.app, { url: hanging.url, events: ['customer.created'] });
      const fast = await createWebhook(t.app, { url: receiver.url, events: ['customer.created'] });
      await createCustomer(t.app);
      const draining = t.services.dispatcher.drain();
      await receiver.waitFor(1);
      // The other receiver got its event while this one still hangs (nothing recorded for it yet).
      await hanging.waitFor(1);
      expect(await attempts(slow.id)).toEqual([]);
      await draining;
      expect((await attempts(fast.id))[0]).toMatchObject({ status_code: 200 });
      expect((await attempts(slow.id))[0]).toMatchObject({ status_code: null, error: 'no answer within 1000 ms' });
    } finally {
      await hanging.close();
    }
  });

  it('resolves the host on every attempt and connects to the address it checked', async () => {
    const url = `http://rebound.example.test:${receiver.port}/hooks`;
    const hook = await createWebhook(t.app, { url, events: ['customer.created'] });
    await createCustomer(t.app);
    await t.services.dispatcher.drain();
    // Allowed here (WEBHOOK_ALLOW_PRIVATE_URLS=true): the name reached our receiver on 127.0.0.1.
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.headers.host).toBe(`rebound.example.test:${receiver.port}`);
    expect((await attempts(hook.id))[0]).toMatchObject({ status_code: 200 });
  });
});

describe.each(DIALECTS)('webhook deliveries without WEBHOOK_ALLOW_PRIVATE_URLS ($name)', (dialect) => {
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  let receiver: Receiver;
  // The name is public when the subscription is saved, and then points at loopback (DNS rebinding).
  let address = '93.184.216.34';
  beforeAll(async () => {
    t = await buildWebhookApp(
      dialect,
      { WEBHOOK_DELIVERY_ENABLED: 'false', WEBHOOK_ALLOW_PRIVATE_URLS: 'false', WEBHOOK_TIMEOUT_SECONDS: '1' },
      { resolveHost: async () => [{ address, family: 4 }] },
    );
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('refuses to connect when the name resolves to loopback at delivery time', async () => {
    const hook = await createWebhook(t.app, {
      url: `http://rebinding.example.test:${receiver.port}/hooks`,
      events: ['customer.created'],
    });
    address = '127.0.0.1';
    await createCustomer(t.app);
    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(0);
    const list = (
      await t.app.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries`, headers: admin })
    ).json<DeliveryAttempt[]>();
    expect(list[0]).toMatchObject({ attempt: 1, status_code: null, delivery_status: 'pending' });
    expect(list[0]?.error).toContain('127.0.0.1');
    expect(list[0]?.error).toContain('private');
  });

  it('refuses a loopback receiver, which a test with WEBHOOK_ALLOW_PRIVATE_URLS=true reaches', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: admin,
      payload: { url: receiver.url, events: ['*'] },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].msg).toContain('127.0.0.1');
  });
});
