import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, ManualClock } from '../helpers/factories.js';
import { type Answer, type Receiver, startReceiver } from './support/receiver.js';
import { admin, buildWebhookApp, createWebhook } from './support/webhook-app.js';

describe.each(DIALECTS)('the outbox ($name)', (dialect) => {
  const clock = new ManualClock(Date.parse('2026-03-01T08:00:00.000Z'));
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  let receiver: Receiver;
  let answers: Answer[] = [];
  beforeAll(async () => {
    t = await buildWebhookApp(dialect, { WEBHOOK_DELIVERY_ENABLED: 'false', WEBHOOK_RETENTION_HOURS: '1' }, { clock });
    receiver = await startReceiver((r, index) => (r.path.endsWith('/down') ? 500 : (answers[index] ?? 200)));
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });
  const count = async (table: 'webhook_events' | 'webhook_deliveries' | 'webhook_attempts') =>
    Number(
      (
        await t.services.db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('writes no event while no subscription wants its type', async () => {
    await createCustomer(t.app);
    expect(await count('webhook_events')).toBe(0);
    const hook = await createWebhook(t.app, { url: receiver.url, events: ['identity.verified'] });
    await createCustomer(t.app);
    expect(await count('webhook_events')).toBe(0);
    await t.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin });
  });

  it('maps the changes of moves, aliases and merges (issue 19) to their events', async () => {
    const hook = await createWebhook(t.app, { url: receiver.url, events: ['*'] });
    const source = { id: 's1', email: 's@example.com', name: 'S', metadata: {}, created_at: 'x', updated_at: 'x' };
    const target = { ...source, id: 't1', email: 't@example.com' };
    const identity = {
      id: 'i1',
      customer_id: 's1',
      channel: 'whatsapp',
      external_id: '+14155552671',
      aliases: [] as string[],
    };
    const moved = { ...identity, customer_id: 't1' };
    const aliased = { ...moved, aliases: ['US.abc'] };
    await t.services.uow({ keyId: null, name: 'test' }, async (_trx, fx) => {
      await fx.audit({ action: 'identity.moved', customerId: 't1', identityId: 'i1', before: identity, after: moved });
      await fx.audit({ action: 'identity.alias_added', identityId: 'i1', before: moved, after: aliased });
      await fx.audit({ action: 'identity.alias_removed', identityId: 'i1', before: aliased, after: moved });
      await fx.audit({
        action: 'customer.merged',
        customerId: 't1',
        after: { merge_id: 'm1', target, source, moved_identity_ids: ['i1'] },
      });
      await fx.audit({
        action: 'customer.unmerged',
        customerId: 's1',
        after: { merge_id: 'm1', source, target_customer_id: 't1', moved_back_identity_ids: ['i1'] },
      });
      // Actions that are not events emit nothing.
      await fx.audit({ action: 'claim.failed', identityId: 'i1', after: { attempts: 1 } });
      await fx.audit({ action: 'api_key.created', after: { id: 'k' } });
    });
    await t.services.dispatcher.drain();
    const events = receiver.received.map((r) => r.event);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['identity.moved', { identity: moved, from_customer_id: 's1', to_customer_id: 't1' }],
      ['identity.alias_added', { identity: aliased, alias: 'US.abc' }],
      ['identity.alias_removed', { identity: moved, alias: 'US.abc' }],
      [
        'customer.merged',
        {
          merge_id: 'm1',
          customer: target,
          source_customer: source,
          target_customer_id: 't1',
          source_customer_id: 's1',
          moved_identity_ids: ['i1'],
        },
      ],
      [
        'customer.unmerged',
        {
          merge_id: 'm1',
          customer: source,
          source_customer_id: 's1',
          target_customer_id: 't1',
          moved_back_identity_ids: ['i1'],
        },
      ],
    ]);
    await t.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin });
    receiver.received.length = 0;
  });

  it('prunes finished deliveries after WEBHOOK_RETENTION_HOURS, and keeps what still waits', async () => {
    answers = [];
    const hook = await createWebhook(t.app, { url: receiver.url, events: ['customer.created'] });
    await createCustomer(t.app);
    await t.services.dispatcher.drain();
    const failing = await createWebhook(t.app, { url: `${receiver.url}/down`, events: ['customer.created'] });
    await createCustomer(t.app);
    await t.services.dispatcher.drain();
    expect(await count('webhook_attempts')).toBeGreaterThan(0);

    clock.advance(2 * 3600);
    await t.services.dispatcher.drain();
    await t.services.retention.runOnce();
    const list = async (id: string) =>
      (await t.app.inject({ method: 'GET', url: `/v1/webhooks/${id}/deliveries`, headers: admin })).json<unknown[]>();
    // The delivered one is gone with its attempts; the failing subscription's delivery waits on.
    expect(await list(hook.id)).toHaveLength(0);
    expect(await list(failing.id)).toEqual([expect.objectContaining({ attempt: 2, status_code: 500 })]);
    const pending = await t.services.db.kysely
      .selectFrom('webhook_deliveries')
      .select(['subscription_id', 'status'])
      .where('status', '=', 'pending')
      .execute();
    expect(pending).toEqual([{ subscription_id: failing.id, status: 'pending' }]);
    expect(await count('webhook_events')).toBe(1);
  });
});
