import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../webhooks/support/receiver.js';
import { admin, buildWebhookApp, createWebhook } from '../webhooks/support/webhook-app.js';

type TestApp = Awaited<ReturnType<typeof buildWebhookApp>>;

/** Distinct values of one person, so that any leftover byte of them is found by a plain search. */
function personValues() {
  const tag = randomUUID().slice(0, 8);
  return {
    email: `erase-me-${tag}@example.com`,
    name: `Pat Erasable ${tag}`,
    note: `private-note-${tag}`,
    telegram: String(700_000_000 + Math.floor(Math.random() * 99_000_000)),
    alias: String(800_000_000 + Math.floor(Math.random() * 99_000_000)),
    phone: `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`,
    display: `PatDisplay${tag}`,
    sourceEmail: `merged-away-${tag}@example.com`,
    sourceName: `Sam Merged ${tag}`,
    sourceTelegram: String(600_000_000 + Math.floor(Math.random() * 99_000_000)),
    asked: String(500_000_000 + Math.floor(Math.random() * 99_000_000)),
    askedDisplay: `AskedDisplay${tag}`,
    scopedDisplay: `ScopedDisplay${tag}`,
  };
}

describe.each(DIALECTS)('erasing a person on $name', (dialect) => {
  let t: TestApp;
  let receiver: Receiver;
  const v = personValues();
  let personId: string;
  let sourceId: string;
  let otherId: string;
  let identityIds: string[];
  let linkRequestIds: string[];
  let code: string;
  let delivered: { id: string };
  let failing: { id: string };
  let erasure: { customer_id: string; erased_at: string; identity_ids: string[]; suppressed: number };

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: admin });
  /** Every value of the person, as it would appear in any answer. */
  const secrets = () => [
    v.email,
    v.name,
    v.note,
    v.telegram,
    v.alias,
    v.phone,
    v.display,
    v.sourceEmail,
    v.sourceName,
    v.sourceTelegram,
    v.asked,
    v.askedDisplay,
    v.scopedDisplay,
  ];
  const leaks = (text: string) => secrets().filter((value) => text.includes(value));

  beforeAll(async () => {
    receiver = await startReceiver((received) => (received.path.endsWith('/down') ? 500 : 200));
    t = await buildWebhookApp(dialect, { WEBHOOK_DELIVERY_ENABLED: 'false' });
    delivered = await createWebhook(t.app, { url: receiver.url, events: ['*'] });

    const person = await createCustomer(t.app, { email: v.email, name: v.name, metadata: { note: v.note } });
    personId = person.id;
    const telegram = await createIdentity(t.app, personId, {
      channel: 'telegram',
      external_id: v.telegram,
      display_name: v.display,
    });
    const phone = await createIdentity(t.app, personId, { channel: 'whatsapp', external_id: v.phone });
    const alias = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${personId}/identities/${telegram.id}/aliases`,
      headers: admin,
      payload: { external_id: v.alias },
    });
    expect(alias.statusCode).toBe(201);
    code = (await generateCode(t.app, personId, telegram.id)).code;

    const source = await createCustomer(t.app, { email: v.sourceEmail, name: v.sourceName });
    sourceId = source.id;
    const sourceIdentity = await createIdentity(t.app, sourceId, {
      channel: 'telegram',
      external_id: v.sourceTelegram,
    });
    const merged = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${personId}/merge`,
      headers: admin,
      payload: { source_customer_id: sourceId },
    });
    expect(merged.statusCode).toBe(200);
    // A stranger's request, approved onto the person (its account becomes theirs), and one their
    // own account asked for in another bot's scope: asked again, then rejected after the drain.
    const asked = await t.app.inject({
      method: 'POST',
      url: '/v1/link-requests',
      headers: admin,
      payload: { channel: 'telegram', external_id: v.asked, display_name: v.askedDisplay },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const approved = await t.app.inject({
      method: 'POST',
      url: `/v1/link-requests/${asked.json().id}/approve`,
      headers: admin,
      payload: { customer_id: personId },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const scoped = {
      channel: 'telegram',
      external_id: v.telegram,
      instance_id: '9b2f1c64-5d1e-4c8a-9f3e-2a7b6c0d1e2f',
      display_name: v.scopedDisplay,
    };
    const ownRequest = await t.app.inject({
      method: 'POST',
      url: '/v1/link-requests',
      headers: admin,
      payload: scoped,
    });
    expect(ownRequest.statusCode, ownRequest.body).toBe(201);
    const renewed = await t.app.inject({ method: 'POST', url: '/v1/link-requests', headers: admin, payload: scoped });
    expect(renewed.statusCode, renewed.body).toBe(200);
    linkRequestIds = [asked.json().id, ownRequest.json().id];
    identityIds = [telegram.id, phone.id, sourceIdentity.id, approved.json().identity.id];

    otherId = (await createCustomer(t.app, { name: 'Someone Else' })).id;
    await createIdentity(t.app, otherId, { channel: 'telegram', external_id: '123456789' });

    // Everything so far reaches the first receiver; what follows waits at a failing one.
    await t.services.dispatcher.drain();
    failing = await createWebhook(t.app, { url: `${receiver.url}/down`, events: ['*'] });
    const updated = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${personId}`,
      headers: admin,
      payload: { metadata: { note: v.note, more: v.name } },
    });
    expect(updated.statusCode).toBe(200);
    const rejected = await t.app.inject({
      method: 'POST',
      url: `/v1/link-requests/${ownRequest.json().id}/reject`,
      headers: admin,
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    await t.services.dispatcher.drain();
    // Warm the lookup cache: an erasure must empty it.
    expect((await get(`/v1/customers/lookup/identity?channel=telegram&external_id=${v.telegram}`)).statusCode).toBe(
      200,
    );

    const erased = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${personId}/erase`,
      headers: admin,
      payload: { reason: 'GDPR request 42' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    erasure = erased.json();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('answers with the ids it erased and suppresses nothing unless asked', () => {
    expect(erasure.customer_id).toBe(personId);
    expect([...erasure.identity_ids].sort()).toEqual([...identityIds].sort());
    expect(erasure.suppressed).toBe(0);
    expect(Date.parse(erasure.erased_at)).not.toBeNaN();
  });

  it('leaves 404s: the customer, the customer merged into it, its identities, aliases and code', async () => {
    expect((await get(`/v1/customers/${personId}`)).statusCode).toBe(404);
    const merged = await get(`/v1/customers/${sourceId}`);
    expect(merged.statusCode).toBe(404);
    expect(merged.json()).toEqual({ detail: 'Customer not found' });
    for (const [channel, id] of [
      ['telegram', v.telegram],
      ['telegram', v.alias],
      ['telegram', v.sourceTelegram],
      ['whatsapp', v.phone],
    ]) {
      const lookup = await get(
        `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(id as string)}`,
      );
      expect(lookup.statusCode, `${channel} ${id}`).toBe(404);
    }
    const claim = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: admin,
      payload: { channel: 'telegram', external_id: v.telegram, code },
    });
    expect(claim.statusCode).not.toBe(200);
    expect((await get(`/v1/customers/${personId}/export`)).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'POST', url: `/v1/customers/${personId}/erase`, headers: admin, payload: {} }))
        .statusCode,
    ).toBe(404);
  });

  it('no list holds any of its values: customers, search, audit, merges, deliveries, stored events', async () => {
    const answers: string[] = [];
    answers.push((await get('/v1/customers?limit=200')).body);
    for (const q of [v.email, v.name, 'Pat', 'erase-me', v.sourceEmail]) {
      answers.push((await get(`/v1/customers?limit=200&q=${encodeURIComponent(q)}`)).body);
    }
    answers.push((await get(`/v1/customers?email=${encodeURIComponent(v.email)}`)).body);
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/audit?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      answers.push(page.body);
      cursor = page.json<{ next_cursor: string | null }>().next_cursor;
    } while (cursor);
    answers.push((await get('/v1/merges?limit=200')).body);
    answers.push((await get(`/v1/merges?customer_id=${personId}`)).body);
    for (const status of ['', 'pending', 'approved', 'rejected', 'expired']) {
      const requests = await get(`/v1/link-requests?limit=200${status ? `&status=${status}` : ''}`);
      expect(requests.statusCode).toBe(200);
      answers.push(requests.body);
    }
    for (const id of linkRequestIds) {
      const request = await get(`/v1/link-requests/${id}`);
      expect(request.statusCode).toBe(404);
      answers.push(request.body);
    }
    for (const hook of [delivered, failing]) answers.push((await get(`/v1/webhooks/${hook.id}/deliveries`)).body);
    answers.push((await get(`/v1/customers/${otherId}/export`)).body);
    const stored = await t.services.db.kysely.selectFrom('webhook_events').select('payload').execute();
    answers.push(JSON.stringify(stored));
    for (const answer of answers) expect(leaks(answer)).toEqual([]);
    expect((await get('/v1/merges?limit=200')).json()).toEqual([]);
  });

  it('keeps audit entries about it with action, time, actor and ids, every other value "[erased]"', async () => {
    const entries = (await get(`/v1/audit?customer_id=${personId}&limit=200`)).json<{
      items: { action: string; actor: string; at: string; customer_id: string; before: unknown; after: unknown }[];
    }>().items;
    const created = entries.find((e) => e.action === 'customer.created');
    expect(created).toMatchObject({ actor: 'bootstrap', customer_id: personId });
    expect(created?.after).toMatchObject({
      id: personId,
      email: '[erased]',
      name: '[erased]',
      metadata: { note: '[erased]' },
    });
    const mergeEntry = entries.find((e) => e.action === 'customer.merged');
    expect(JSON.stringify(mergeEntry)).toContain(sourceId);
    const sourceEntries = (await get(`/v1/audit?customer_id=${sourceId}&limit=200`)).json<{ items: unknown[] }>().items;
    expect(sourceEntries.length).toBeGreaterThan(0);
    const erasedEntry = entries.find((e) => e.action === 'customer.erased');
    expect(erasedEntry).toMatchObject({
      actor: 'bootstrap',
      after: {
        reason: 'GDPR request 42',
        identity_ids: expect.arrayContaining(identityIds),
        erased_at: erasure.erased_at,
        counts: expect.objectContaining({ customers: 2, identities: 4, aliases: 1, merges: 1, link_requests: 2 }),
      },
    });
  });

  it('keeps the audit entries and events of its link requests with their ids, every other value "[erased]"', async () => {
    const entries: { action: string; after: Record<string, unknown> }[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/audit?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      entries.push(...page.json<{ items: { action: string; after: Record<string, unknown> }[] }>().items);
      cursor = page.json<{ next_cursor: string | null }>().next_cursor;
    } while (cursor);
    const asked = entries.filter((e) => e.action.startsWith('link_request.'));
    expect(asked.map((e) => e.action).sort()).toEqual([
      'link_request.approved',
      'link_request.created',
      'link_request.created',
      'link_request.rejected',
      'link_request.renewed',
    ]);
    for (const entry of asked) {
      expect(linkRequestIds).toContain(entry.after.id);
      expect(entry.after).toMatchObject({ external_id: '[erased]', display_name: '[erased]', channel: '[erased]' });
    }

    const events = await t.services.db.kysely
      .selectFrom('webhook_events')
      .select(['type', 'payload'])
      .where('type', 'like', 'link_request.%')
      .execute();
    expect(events.map((e) => e.type).sort()).toEqual([
      'link_request.approved',
      'link_request.created',
      'link_request.created',
      'link_request.rejected',
    ]);
    for (const event of events) {
      const request = JSON.parse(event.payload).data.link_request;
      expect(linkRequestIds).toContain(request.id);
      expect(request).toMatchObject({ external_id: '[erased]', display_name: '[erased]' });
    }
  });

  it('drops its undelivered events, redacts delivered bodies, and sends customer.erased with ids only', async () => {
    const db = t.services.db.kysely;
    const pending = await db.selectFrom('webhook_deliveries').select(['status', 'subscription_id']).execute();
    // The failing subscription had only the person's update waiting: dropped. Only customer.erased waits now.
    expect(pending.filter((d) => d.subscription_id === failing.id && d.status !== 'delivered')).toHaveLength(1);
    const erasedEvents = await db
      .selectFrom('webhook_events')
      .select(['type', 'payload'])
      .where('type', '=', 'customer.erased')
      .execute();
    expect(erasedEvents).toHaveLength(1);
    expect(JSON.parse(erasedEvents[0]?.payload as string).data).toEqual({
      customer_id: personId,
      identity_ids: erasure.identity_ids,
      erased_at: erasure.erased_at,
    });
    const linked = await db
      .selectFrom('webhook_events')
      .select('payload')
      .where('type', '=', 'customer.created')
      .execute();
    const personCreated = linked
      .map((row) => JSON.parse(row.payload))
      .find((body) => body.data.customer.id === personId);
    expect(personCreated.data.customer).toMatchObject({ id: personId, email: '[erased]', name: '[erased]' });

    receiver.received.length = 0;
    await t.services.dispatcher.drain();
    const sent = receiver.received.find((r) => r.event.type === 'customer.erased' && !r.path.endsWith('/down'));
    expect(sent?.event.data).toEqual({
      customer_id: personId,
      identity_ids: erasure.identity_ids,
      erased_at: erasure.erased_at,
    });
  });

  it('leaves everyone else as they were', async () => {
    const other = await get(`/v1/customers/${otherId}`);
    expect(other.statusCode).toBe(200);
    expect(other.json()).toMatchObject({ name: 'Someone Else' });
    expect((await get('/v1/customers/lookup/identity?channel=telegram&external_id=123456789')).statusCode).toBe(200);
  });

  it('validates its body and needs an admin key', async () => {
    const other = otherId;
    const bad = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${other}/erase`,
      headers: admin,
      payload: { suppress: 'maybe' },
    });
    expect(bad.statusCode).toBe(422);
    const anonymous = await t.app.inject({ method: 'POST', url: `/v1/customers/${other}/erase`, payload: {} });
    expect(anonymous.statusCode).toBe(401);
    expect((await get(`/v1/customers/${other}`)).statusCode).toBe(200);
  });
});
