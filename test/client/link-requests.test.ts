import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  ConflictError,
  createIdentityClient,
  type IdentityClient,
  InvalidLinkCodeError,
  NotFoundError,
  RateLimitedError,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
} from '../../packages/client/src/index.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createKey } from '../helpers/factories.js';

describe.each(DIALECTS)('the client’s link requests against a running server on $name', (dialect) => {
  let t: TestApp;
  let admin: IdentityClient;
  let runtime: IdentityClient;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    admin = createIdentityClient({ baseUrl, apiKey: ADMIN_KEY });
    runtime = createIdentityClient({ baseUrl, apiKey: (await createKey(t.app, 'runtime')).key });
  });
  afterAll(() => t.close());

  it('a stranger asks, the operator redeems the code; list, get and reject', async () => {
    const issued = await runtime.createLinkRequest({ channel: 'telegram', external_id: '777001', display_name: 'Ann' });
    expect(issued).toMatchObject({
      channel: 'telegram',
      external_id: '777001',
      status: 'pending',
      display_name: 'Ann',
    });
    expect(issued.code).toHaveLength(8);
    expect(issued.instructions).toContain(issued.code);
    const renewed = await runtime.createLinkRequest({ channel: 'telegram', external_id: '777001' });
    expect(renewed.id).toBe(issued.id);

    const page = await admin.listLinkRequests({ status: 'pending', channel: 'telegram' });
    expect(page.items.map((r) => r.id)).toContain(issued.id);
    expect(page.items[0]).not.toHaveProperty('code');
    expect(await admin.getLinkRequest(issued.id)).toMatchObject({ id: issued.id, status: 'pending' });
    await expect(runtime.listLinkRequests()).rejects.toBeInstanceOf(AuthError);

    await expect(admin.redeemLinkRequest(issued.code, { customer: { email: 'x@example.com' } })).rejects.toBeInstanceOf(
      InvalidLinkCodeError,
    );
    const { link_request, identity } = await admin.redeemLinkRequest(renewed.code.toLowerCase(), {
      customer: { email: 'ann@example.com', name: 'Ann' },
    });
    expect(link_request).toMatchObject({ id: issued.id, status: 'approved', identity_id: identity.id });
    expect(identity).toMatchObject({ verified: true, verified_via: 'link_request' });
    expect(await runtime.lookupIdentity({ channel: 'telegram', external_id: '777001' })).toMatchObject({
      verified_via: 'link_request',
    });

    const conflict = await runtime.createLinkRequest({ channel: 'telegram', external_id: '777001' }).catch((e) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.conflict).toEqual({ customer_id: identity.customer_id, identity_id: identity.id });

    const other = await runtime.createLinkRequest({ channel: 'telegram', external_id: '777002' });
    expect(await admin.rejectLinkRequest(other.id)).toMatchObject({ status: 'rejected' });
    await expect(admin.approveLinkRequest(other.id, { customer_id: identity.customer_id })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(admin.getLinkRequest('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);

    const third = await runtime.createLinkRequest({ channel: 'slack', external_id: 'u123' });
    const approved = await admin.approveLinkRequest(third.id, {
      customer_id: identity.customer_id,
      role_override: null,
    });
    expect(approved.identity).toMatchObject({ external_id: 'U123', verified: false, verified_via: null });
  });

  it('linkWithCode from a verified account; failures are InvalidLinkCodeError, then RateLimitedError', async () => {
    const customer = await admin.createCustomer({ email: 'bob@example.com' });
    const own = await admin.createIdentity(customer.id, { channel: 'telegram', external_id: '888001' });
    await admin.updateIdentity(customer.id, own.id, { verified: true });
    const request = await runtime.createLinkRequest({ channel: 'whatsapp', external_id: '+14155550111' });
    const linked = await runtime.linkWithCode({ channel: 'telegram', external_id: '888001', code: request.code });
    expect(linked).toMatchObject({ customer_id: customer.id, verified_via: 'linked_identity', role_override: null });

    const sender = { channel: 'telegram', external_id: '888001', code: 'AAAAAAAA' };
    for (let i = 0; i < 5; i++) await expect(runtime.linkWithCode(sender)).rejects.toBeInstanceOf(InvalidLinkCodeError);
    const limited = await runtime.linkWithCode(sender).catch((e) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('knows the link request events', () => {
    expect(WEBHOOK_EVENT_TYPES).toEqual(
      expect.arrayContaining(['link_request.created', 'link_request.approved', 'link_request.rejected']),
    );
    const event = {
      id: 'e',
      type: 'link_request.approved',
      created_at: '2026-12-07T00:00:00.000Z',
      data: { link_request: {}, identity: {} },
    } as WebhookEvent;
    if (event.type === 'link_request.approved') expect(event.data).toHaveProperty('identity');
  });
});
