import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up as linkRequestPrivacy } from '../../src/db/migrations/2026-12-07-004-link-request-privacy.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../webhooks/support/receiver.js';
import { admin, buildWebhookApp, createWebhook } from '../webhooks/support/webhook-app.js';

describe.each(DIALECTS)('exporting a person on $name', (dialect) => {
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  let receiver: Receiver;
  let secret: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await buildWebhookApp(dialect, { WEBHOOK_DELIVERY_ENABLED: 'false' });
    secret = (await createWebhook(t.app, { url: receiver.url, events: ['*'] })).secret;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('holds the customer, identities with aliases and proofs, merges, audit and events with deliveries', async () => {
    const person = await createCustomer(t.app, { name: 'Exported', metadata: { plan: 'pro' } });
    const identity = await createIdentity(t.app, person.id, { channel: 'telegram', external_id: '424242' });
    const { code } = await generateCode(t.app, person.id, identity.id);
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${person.id}/identities/${identity.id}`,
      headers: admin,
      payload: { verified: true },
    });
    await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${person.id}/identities/${identity.id}/aliases`,
      headers: admin,
      payload: { external_id: '434343' },
    });
    const source = await createCustomer(t.app, { name: 'Merged Away' });
    const merge = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${person.id}/merge`,
      headers: admin,
      payload: { source_customer_id: source.id },
    });
    const stranger = await createCustomer(t.app, { name: 'Stranger' });
    // A stranger's request approved onto the person, one of the person's own account (another
    // bot's scope) still pending, and someone else's.
    const ask = async (payload: Record<string, unknown>) => {
      const asked = await t.app.inject({ method: 'POST', url: '/v1/link-requests', headers: admin, payload });
      expect(asked.statusCode, asked.body).toBe(201);
      return asked.json<{ id: string; code: string }>();
    };
    const approvedRequest = await ask({ channel: 'telegram', external_id: '454545', display_name: 'Asked Once' });
    const approved = await t.app.inject({
      method: 'POST',
      url: `/v1/link-requests/${approvedRequest.id}/approve`,
      headers: admin,
      payload: { customer_id: person.id },
    });
    expect(approved.statusCode).toBe(200);
    const pendingRequest = await ask({
      channel: 'telegram',
      external_id: '424242',
      instance_id: '5c0e7f3a-1b2d-4e6f-8a9b-0c1d2e3f4a5b',
    });
    const othersRequest = await ask({ channel: 'telegram', external_id: '464646' });
    await t.services.dispatcher.drain();

    const response = await t.app.inject({ url: `/v1/customers/${person.id}/export`, headers: admin });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toBe(`attachment; filename="customer-${person.id}.json"`);
    const doc = response.json();
    expect(Object.keys(doc).sort()).toEqual(
      ['audit', 'customer', 'exported_at', 'identities', 'link_requests', 'merges', 'webhook_events'].sort(),
    );
    expect(doc.customer).toMatchObject({ id: person.id, name: 'Exported', metadata: { plan: 'pro' } });
    expect(doc.identities).toEqual([
      expect.objectContaining({ id: identity.id, aliases: ['434343'], verified: true, verified_via: 'operator' }),
      expect.objectContaining({ id: approved.json().identity.id, external_id: '454545' }),
    ]);
    // As the API shows a LinkRequest: never its code (nor its HMAC), nor where a chat reply goes.
    expect(doc.link_requests).toEqual([
      {
        ...(await t.app.inject({ url: `/v1/link-requests/${approvedRequest.id}`, headers: admin })).json(),
        status: 'approved',
        customer_id: person.id,
        display_name: 'Asked Once',
      },
      (await t.app.inject({ url: `/v1/link-requests/${pendingRequest.id}`, headers: admin })).json(),
    ]);
    expect(doc.link_requests[1]).toMatchObject({ external_id: '424242', status: 'pending' });
    expect(doc.merges).toEqual([
      expect.objectContaining({
        merge_id: merge.json().merge_id,
        source_customer_id: source.id,
        source_customer: expect.objectContaining({ id: source.id, name: 'Merged Away', email: source.email }),
      }),
    ]);
    const actions = doc.audit.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'customer.created',
        'identity.created',
        'identity.verified',
        'identity.alias_added',
        'customer.merged',
      ]),
    );
    // The merged-away customer's own history is the person's too.
    expect(doc.audit.filter((e: { customer_id: string }) => e.customer_id === source.id).length).toBeGreaterThan(0);
    const types = doc.webhook_events.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'customer.created',
        'identity.linked',
        'customer.merged',
        'link_request.created',
        'link_request.approved',
      ]),
    );
    // The pending request's creation is found by the request, which names no customer yet.
    expect(
      doc.webhook_events.filter(
        (e: { type: string; body: { data: { link_request: { id: string } } } }) =>
          e.type === 'link_request.created' && e.body.data.link_request.id === pendingRequest.id,
      ),
    ).toHaveLength(1);
    expect(doc.audit.filter((e: { action: string }) => e.action === 'link_request.created')).toHaveLength(2);
    expect(doc.webhook_events[0].deliveries).toEqual([expect.objectContaining({ status: 'delivered', attempts: 1 })]);
    expect(doc.webhook_events[0].body).toMatchObject({ type: doc.webhook_events[0].type });

    const text = response.body;
    expect(text).not.toContain(code);
    for (const request of [approvedRequest, pendingRequest]) expect(text).not.toContain(request.code);
    expect(text).not.toMatch(/code_hmac|reply_to/);
    expect(text).not.toContain(othersRequest.id);
    expect(text).not.toContain('464646');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(stranger.id);
    expect(text).not.toContain('x-api-key');
  });

  it("finds a link request's events stored before the request was their subject (the migration back-fills it)", async () => {
    const person = await createCustomer(t.app);
    await createIdentity(t.app, person.id, { channel: 'telegram', external_id: '484848' });
    const asked = await t.app.inject({
      method: 'POST',
      url: '/v1/link-requests',
      headers: admin,
      payload: { channel: 'telegram', external_id: '484848', instance_id: '6d1f8a4b-2c3e-4f5a-9b6c-1d2e3f4a5b6c' },
    });
    expect(asked.statusCode).toBe(201);
    const requestId = asked.json().id;
    const eventsOfRequest = async () =>
      (await t.app.inject({ url: `/v1/customers/${person.id}/export`, headers: admin }))
        .json<{ webhook_events: { type: string; body: { data: { link_request?: { id: string } } } }[] }>()
        .webhook_events.filter((e) => e.body.data.link_request?.id === requestId)
        .map((e) => e.type);
    expect(await eventsOfRequest()).toEqual(['link_request.created']);

    const db = t.services.db.kysely;
    await db.deleteFrom('webhook_event_subjects').where('subject_id', '=', requestId).execute();
    expect(await eventsOfRequest()).toEqual([]);
    await linkRequestPrivacy(db);
    await linkRequestPrivacy(db);
    expect(await eventsOfRequest()).toEqual(['link_request.created']);
  });

  it('is a 404 for an unknown customer, a 410 for a merged-away one, and admin only', async () => {
    expect((await t.app.inject({ url: `/v1/customers/${randomUUID()}/export`, headers: admin })).statusCode).toBe(404);
    const target = await createCustomer(t.app);
    const source = await createCustomer(t.app);
    await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${target.id}/merge`,
      headers: admin,
      payload: { source_customer_id: source.id },
    });
    const gone = await t.app.inject({ url: `/v1/customers/${source.id}/export`, headers: admin });
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ merged_into: target.id });
    const runtime = await t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: admin,
      payload: { name: 'rt', scope: 'runtime' },
    });
    const forbidden = await t.app.inject({
      url: `/v1/customers/${target.id}/export`,
      headers: { 'x-api-key': runtime.json().key },
    });
    expect(forbidden.statusCode).toBe(403);
    expect((await t.app.inject({ url: '/v1/customers/not-a-uuid/export', headers: admin })).statusCode).toBe(422);
  });
});
