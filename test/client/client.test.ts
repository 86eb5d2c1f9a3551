import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  ConflictError,
  createIdentityClient,
  GoneError,
  type IdentityClient,
  IdentityServiceError,
  InvalidClaimError,
  NotFoundError,
  RateLimitedError,
  TransportError,
  ValidationError,
} from '../../packages/client/src/index.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createKey } from '../helpers/factories.js';

describe.each(DIALECTS)('the TypeScript client against a running server on $name', (dialect) => {
  let t: TestApp;
  let baseUrl: string;
  let admin: IdentityClient;
  let runtime: IdentityClient;

  beforeAll(async () => {
    t = await buildTestApp(dialect, { RATE_LIMIT_CLAIM_PER_IDENTITY: '6' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/`;
    admin = createIdentityClient({ baseUrl, apiKey: ADMIN_KEY });
    runtime = createIdentityClient({ baseUrl, apiKey: (await createKey(t.app, 'runtime')).key });
  });
  afterAll(() => t.close());

  it('manages customers and identities, then looks up and claims as the runtime', async () => {
    const customer = await admin.createCustomer({ email: 'Steve@Acme.com', name: 'Steve', metadata: { plan: 'pro' } });
    expect(customer).toMatchObject({ email: 'steve@acme.com', name: 'Steve', metadata: { plan: 'pro' } });
    expect(await runtime.getCustomer(customer.id)).toEqual(customer);
    const page = await runtime.listCustomers({ email: 'STEVE@acme.com' });
    expect(page.items.map((c) => c.id)).toEqual([customer.id]);
    expect(page.next_cursor).toBeNull();

    const identity = await admin.createIdentity(customer.id, { channel: 'telegram', external_id: '12345' });
    expect(identity).toMatchObject({ channel: 'telegram', external_id: '12345', verified: false, metadata: {} });
    expect(await runtime.listIdentities(customer.id, { channel: 'telegram' })).toEqual([identity]);
    expect(await runtime.listIdentities(customer.id, { channel: 'slack' })).toEqual([]);

    expect(await runtime.lookupIdentity({ channel: 'Telegram', external_id: ' 12345' })).toEqual({
      channel: 'telegram',
      customer_email: 'steve@acme.com',
      customer_id: customer.id,
      display_name: null,
      external_id: '12345',
      identity_id: identity.id,
      role_override: null,
      verified: false,
      verified_via: null,
    });
    expect(await runtime.lookupIdentity({ channel: 'telegram', external_id: '99999' })).toBeNull();

    const { code, instructions } = await admin.generateClaimCode(customer.id, identity.id);
    expect(instructions).toContain(code);
    const claimed = await runtime.claim({ channel: 'telegram', external_id: '12345', code: code.toLowerCase() });
    expect(claimed).toMatchObject({ id: identity.id, verified: true, role_override: 'owner' });
    expect((await runtime.lookupIdentity({ channel: 'telegram', external_id: '12345' }))?.verified).toBe(true);

    const renamed = await admin.updateIdentity(customer.id, identity.id, { display_name: 'Steve (TG)' });
    expect(renamed.display_name).toBe('Steve (TG)');
    expect((await admin.updateCustomer(customer.id, { name: 'Steven' })).name).toBe('Steven');

    expect(await admin.deleteIdentity(customer.id, identity.id)).toBeUndefined();
    expect(await runtime.lookupIdentity({ channel: 'telegram', external_id: '12345' })).toBeNull();
    expect(await admin.deleteCustomer(customer.id)).toBeUndefined();
    await expect(runtime.getCustomer(customer.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('adds and removes aliases, moves an identity, merges with a preview and undoes it', async () => {
    const steve = await admin.createCustomer({ email: 'steve.twice@acme.com', name: null });
    const dup = await admin.createCustomer({ email: 'steve.dup@acme.com', name: 'Steve', metadata: { crm: 'c-9' } });
    const phone = await admin.createIdentity(dup.id, { channel: 'whatsapp', external_id: '+16505557001' });
    const withAlias = await admin.addAlias(dup.id, phone.id, 'us.13491208655302741918');
    expect(withAlias.aliases).toEqual(['US.13491208655302741918']);
    expect(await runtime.lookupIdentity({ channel: 'whatsapp', external_id: 'US.13491208655302741918' })).toMatchObject(
      {
        identity_id: phone.id,
        external_id: '+16505557001',
        verified_via: null,
      },
    );
    const other = await admin.createIdentity(steve.id, { channel: 'whatsapp', external_id: '+16505557002' });
    const taken = await admin.addAlias(steve.id, other.id, 'US.13491208655302741918').catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(ConflictError);
    expect((taken as ConflictError).conflict).toEqual({ customer_id: dup.id, identity_id: phone.id });

    const moved = await admin.move(steve.id, other.id, { customer_id: dup.id });
    expect(moved).toMatchObject({ id: other.id, customer_id: dup.id, verified_via: null });
    const back = await admin.move(dup.id, other.id, { customer_id: steve.id, keep_verification: true });
    expect(back.customer_id).toBe(steve.id);

    const preview = await admin.merge(steve.id, { sourceCustomerId: dup.id, dryRun: true });
    expect(preview.result).toMatchObject({ id: steve.id, name: 'Steve', metadata: { crm: 'c-9' } });
    expect(preview.identities_to_move.map((i) => i.id)).toEqual([phone.id]);
    const merged = await admin.merge(steve.id, { sourceCustomerId: dup.id });
    expect(merged.moved_identity_ids).toEqual([phone.id]);
    const gone = await runtime.getCustomer(dup.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(GoneError);
    expect(gone).toMatchObject({ status: 410, mergedInto: steve.id });
    expect(await admin.listMerges({ customerId: dup.id })).toEqual([
      {
        merge_id: merged.merge_id,
        target_customer_id: steve.id,
        source_customer_id: dup.id,
        merged_at: merged.merged_at,
        undone_at: null,
      },
    ]);
    const undone = await admin.undoMerge(merged.merge_id);
    expect(undone.source).toMatchObject({ id: dup.id, email: 'steve.dup@acme.com', created_at: dup.created_at });
    expect(undone.moved_back_identity_ids).toEqual([phone.id]);
    await expect(admin.undoMerge(merged.merge_id)).rejects.toBeInstanceOf(ConflictError);
    await admin.removeAlias(dup.id, phone.id, 'US.13491208655302741918');
    expect(await runtime.lookupIdentity({ channel: 'whatsapp', external_id: 'US.13491208655302741918' })).toBeNull();
  });

  it('exports a person, erases them with suppression, lists and lifts suppressions', async () => {
    const person = await admin.createCustomer({ email: 'forget.me@acme.com', name: 'Forget Me' });
    const identity = await admin.createIdentity(person.id, { channel: 'telegram', external_id: '5550001' });
    const exported = await admin.exportCustomer(person.id);
    expect(exported.customer).toEqual(person);
    expect(exported.identities.map((i) => i.id)).toEqual([identity.id]);
    const erased = await admin.eraseCustomer(person.id, { suppress: true, reason: 'ticket 7' });
    expect(erased).toMatchObject({ customer_id: person.id, identity_ids: [identity.id], suppressed: 2 });
    await expect(admin.getCustomer(person.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(admin.createCustomer({ email: 'forget.me@acme.com' })).rejects.toBeInstanceOf(ConflictError);
    expect((await admin.listSuppressions()).map((s) => s.kind).sort()).toEqual(['email', 'external_id']);
    await admin.liftSuppression({ email: 'Forget.Me@acme.com' });
    await expect(admin.liftSuppression({ email: 'forget.me@acme.com' })).rejects.toBeInstanceOf(NotFoundError);
    expect((await admin.createCustomer({ email: 'forget.me@acme.com' })).email).toBe('forget.me@acme.com');
  });

  it('raises typed errors carrying the status and the detail', async () => {
    const customer = await admin.createCustomer({ email: 'errors@acme.com' });
    const conflict = await admin.createCustomer({ email: 'ERRORS@acme.com' }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ status: 409, detail: expect.any(String) });

    const missing = await runtime.listIdentities('7f1c7a52-8d0e-4c43-9d8a-0b8f3f0c1a11').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, detail: 'Customer not found' });

    const invalid = await admin
      .createIdentity(customer.id, { channel: 'whatsapp', external_id: 'not a number' })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).status).toBe(422);
    expect((invalid as ValidationError).issues[0]?.loc).toEqual(['body', 'external_id']);

    const forbidden = await runtime.createCustomer({ email: 'nope@acme.com' }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(AuthError);
    expect((forbidden as AuthError).status).toBe(403);
    const unknownKey = createIdentityClient({ baseUrl, apiKey: 'not-a-key-0123456789' });
    const unauthorized = await unknownKey.getCustomer(customer.id).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(AuthError);
    expect((unauthorized as AuthError).status).toBe(401);

    const identity = await admin.createIdentity(customer.id, { channel: 'slack', external_id: 'u0errors' });
    await admin.updateIdentity(customer.id, identity.id, { verified: true });
    await expect(admin.generateClaimCode(customer.id, identity.id)).rejects.toBeInstanceOf(ConflictError);
    // Every error is also the base class, for callers that only care that it failed.
    expect(conflict).toBeInstanceOf(IdentityServiceError);
  });

  it('tells a wrong claim from too many attempts, with Retry-After', async () => {
    const key = { channel: 'slack', external_id: 'U0GUESSER' };
    for (let i = 0; i < 6; i++) {
      const error = await runtime.claim({ ...key, code: 'ZZZZZZ' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidClaimError);
      expect(error).toMatchObject({ status: 400, detail: 'Invalid or expired claim code' });
    }
    const limited = await runtime.claim({ ...key, code: 'ZZZZZZ' }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).status).toBe(429);
    expect((limited as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('refuses to read a 404 of a wrong base URL as "nobody", and reports an unreachable server', async () => {
    // A common mistake: the base URL given with /v1, so that every path is /v1/v1/…
    const doubled = createIdentityClient({ baseUrl: `${baseUrl}v1`, apiKey: ADMIN_KEY });
    await expect(doubled.lookupIdentity({ channel: 'telegram', external_id: '1' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    // A page that is not the API (here the dashboard's) is not taken for an answer either.
    const elsewhere = createIdentityClient({ baseUrl: `${baseUrl}not-the-service`, apiKey: ADMIN_KEY });
    const notApi = await elsewhere.lookupIdentity({ channel: 'telegram', external_id: '1' }).catch((e: unknown) => e);
    expect(notApi).toBeInstanceOf(IdentityServiceError);
    expect((notApi as IdentityServiceError).message).toMatch(/not JSON/);
    const closedPort = createIdentityClient({ baseUrl: 'http://127.0.0.1:9', apiKey: ADMIN_KEY, timeoutMs: 2000 });
    const error = await closedPort.serviceInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).status).toBe(0);
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const client = createIdentityClient({
      baseUrl,
      apiKey: ADMIN_KEY,
      fetch: (input, init) => {
        seen.push(`${init?.method} ${String(input)}`);
        return fetch(input, init);
      },
    });
    const info = await client.serviceInfo();
    expect(info.claim_code_ttl_seconds).toBe(900);
    expect(seen).toEqual([`GET ${baseUrl}v1/service-info`]);
  });
});
