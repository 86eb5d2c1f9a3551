import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';
import { type Received, type Receiver, startReceiver } from './support/receiver.js';
import { admin, buildWebhookApp, createWebhook } from './support/webhook-app.js';

/** Verified by the reference implementation of Standard Webhooks, not by our own code. */
function verify(secret: string, received: Received) {
  return new Webhook(secret).verify(received.body, received.headers as Record<string, string>) as Received['event'];
}

describe.each(DIALECTS)('webhook deliveries ($name)', (dialect) => {
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  let receiver: Receiver;
  let hook: Awaited<ReturnType<typeof createWebhook>>;
  beforeAll(async () => {
    t = await buildWebhookApp(dialect);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await t.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin });
    await receiver.close();
  });

  it('sends every change, signed, in order, verified by the standardwebhooks package', async () => {
    receiver = await startReceiver();
    hook = await createWebhook(t.app, { url: receiver.url, events: ['*'] });
    const customer = await createCustomer(t.app, { email: 'steve@example.com', name: 'Steve' });
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '12345' });
    const patch = (payload: Record<string, unknown>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        headers: admin,
        payload,
      });
    await patch({ display_name: 'Steve T' });
    await patch({ verified: true });
    await patch({ verified: false });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}`,
      headers: admin,
      payload: { name: 'S' },
    });
    await t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers: admin,
    });
    await t.app.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers: admin });
    await receiver.waitFor(8);

    const events = receiver.received.map((r) => verify(hook.secret, r));
    expect(events.map((e) => e.type)).toEqual([
      'customer.created',
      'identity.linked',
      'identity.updated',
      'identity.verified',
      'identity.unverified',
      'customer.updated',
      'identity.unlinked',
      'customer.deleted',
    ]);
    for (const [i, r] of receiver.received.entries()) {
      expect(r.headers['webhook-id']).toBe(events[i]?.id);
      expect(r.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(8);
    expect(events[0]?.data).toEqual({
      customer: expect.objectContaining({ id: customer.id, email: 'steve@example.com' }),
    });
    expect(events[1]?.data.identity).toMatchObject({ id: identity.id, customer_id: customer.id, external_id: '12345' });
    expect(events[3]?.data.identity).toMatchObject({ id: identity.id, verified: true });
    expect(events[4]?.data.identity).toMatchObject({ id: identity.id, verified: false, verified_at: null });
    expect(events[5]?.data.customer).toMatchObject({ id: customer.id, name: 'S' });
    expect(events[6]?.data.identity).toMatchObject({ id: identity.id });
    expect(events[7]?.data).toEqual({ customer: expect.objectContaining({ id: customer.id, name: 'S' }) });
    expect(events[7]?.data.customer).not.toHaveProperty('identities');
    expect(events[0]).toEqual({
      id: events[0]?.id,
      type: 'customer.created',
      created_at: expect.any(String),
      data: events[0]?.data,
    });

    // Another secret does not verify: the signature is really keyed with this one.
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(
        receiver.received[0]?.body ?? '',
        receiver.received[0]?.headers as Record<string, string>,
      ),
    ).toThrow();

    await t.services.dispatcher.drain();
    const deliveries = await t.app.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries`, headers: admin });
    expect(deliveries.statusCode).toBe(200);
    const attempts =
      deliveries.json<
        { event_id: string; type: string; attempt: number; status_code: number; error: null; delivery_status: string }[]
      >();
    expect(attempts).toHaveLength(8);
    expect(attempts.map((a) => a.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(attempts[0]).toMatchObject({ attempt: 1, status_code: 200, error: null, delivery_status: 'delivered' });
  });

  it('sends only the types asked for, and nothing to a disabled subscription', async () => {
    receiver = await startReceiver();
    hook = await createWebhook(t.app, { url: receiver.url, events: ['identity.verified', 'claim.redeemed'] });
    const off = await createWebhook(t.app, { url: receiver.url, events: ['*'], enabled: false });
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '777' });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    const claim = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: admin,
      payload: { channel: 'telegram', external_id: '777', code },
    });
    expect(claim.statusCode).toBe(200);
    await receiver.waitFor(2);
    const events = receiver.received.map((r) => verify(hook.secret, r));
    expect(events.map((e) => e.type)).toEqual(['claim.redeemed', 'identity.verified']);
    expect(events[0]?.data.identity).toMatchObject({ id: identity.id, verified: true, role_override: 'owner' });
    // Whatever else happens next, the disabled one gets nothing and this one nothing unwanted.
    await createCustomer(t.app);
    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(2);
    await t.app.inject({ method: 'DELETE', url: `/v1/webhooks/${off.id}`, headers: admin });
  });

  it('sends nothing for a change that was rolled back', async () => {
    receiver = await startReceiver();
    hook = await createWebhook(t.app, { url: receiver.url, events: ['*'] });
    const customer = await createCustomer(t.app);
    await receiver.waitFor(1);
    // A change that wrote its audit (and so its event) and then failed: all of it rolls back.
    await expect(
      t.services.uow({ keyId: null, name: 'test' }, async (_trx, fx) => {
        await fx.audit({ action: 'customer.updated', customerId: customer.id, after: { ...customer, name: 'never' } });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    // A failed write through the API (a taken email) rolls back as well.
    const taken = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: admin,
      payload: { email: customer.email },
    });
    expect(taken.statusCode).toBe(409);
    const later = await createCustomer(t.app);
    await receiver.waitFor(2);
    await t.services.dispatcher.drain();
    expect(receiver.received.map((r) => r.event.type)).toEqual(['customer.created', 'customer.created']);
    expect(receiver.received[1]?.event.data.customer?.id).toBe(later.id);
    const outbox = await t.services.db.kysely.selectFrom('webhook_events').select('payload').execute();
    expect(outbox.some((row) => row.payload.includes('never'))).toBe(false);
  });

  it('re-sends one event on request, with the same id and body', async () => {
    receiver = await startReceiver();
    hook = await createWebhook(t.app, { url: receiver.url, events: ['customer.created'] });
    await createCustomer(t.app);
    await receiver.waitFor(1);
    await t.services.dispatcher.drain();
    const first = receiver.received[0] as Received;
    const retry = await t.app.inject({
      method: 'POST',
      url: `/v1/webhooks/${hook.id}/deliveries/${first.event.id}/retry`,
      headers: admin,
    });
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual({ event_id: first.event.id, type: 'customer.created', status: 'pending' });
    await receiver.waitFor(2);
    await t.services.dispatcher.drain();
    const second = receiver.received[1] as Received;
    expect(second.body).toBe(first.body);
    expect(verify(hook.secret, second).id).toBe(first.event.id);
    const attempts = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/webhooks/${hook.id}/deliveries?event_id=${first.event.id}`,
        headers: admin,
      })
    ).json<{ attempt: number }[]>();
    expect(attempts.map((a) => a.attempt)).toEqual([2, 1]);
  });

  it('signs with the new secret after a rotation', async () => {
    receiver = await startReceiver();
    hook = await createWebhook(t.app, { url: receiver.url, events: ['customer.created'] });
    const rotated = await t.app.inject({
      method: 'POST',
      url: `/v1/webhooks/${hook.id}/rotate-secret`,
      headers: admin,
    });
    const secret = rotated.json<{ secret: string }>().secret;
    await createCustomer(t.app);
    await receiver.waitFor(1);
    expect(verify(secret, receiver.received[0] as Received).type).toBe('customer.created');
    expect(() => verify(hook.secret, receiver.received[0] as Received)).toThrow();
  });
});
