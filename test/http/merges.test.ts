import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

let seq = 0;
const telegramId = () => String(900_000_000 + Math.floor(Math.random() * 1_000_000) * 100 + (seq++ % 100));

describe.each(DIALECTS)('moving identities, merging customers and undoing it on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  const post = (url: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url: `/v1${url}`, headers: t.admin, payload: payload as object });
  const get = (url: string) => t.app.inject({ url: `/v1${url}`, headers: t.admin });
  const lookup = (externalId: string) => get(`/customers/lookup/identity?channel=telegram&external_id=${externalId}`);
  const verify = (cid: string, iid: string) =>
    t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${cid}/identities/${iid}`,
      headers: t.admin,
      payload: { verified: true, role_override: 'owner' },
    });

  describe('move', () => {
    it('moves the identity (same id) to the target, unverified, without role, its code void; the next lookup answers the new owner', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const externalId = telegramId();
      const identity = await createIdentity(t.app, a.id, { channel: 'telegram', external_id: externalId });
      await verify(a.id, identity.id);
      expect((await lookup(externalId)).json().customer_id).toBe(a.id);

      const moved = await post(`/customers/${a.id}/identities/${identity.id}/move`, { customer_id: b.id });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json()).toMatchObject({
        id: identity.id,
        customer_id: b.id,
        verified: false,
        verified_at: null,
        verified_via: null,
        role_override: null,
      });
      expect((await lookup(externalId)).json()).toMatchObject({ customer_id: b.id, verified: false });
      expect((await get(`/customers/${a.id}/identities`)).json()).toEqual([]);
      expect((await get(`/customers/${b.id}/identities`)).json().map((i: { id: string }) => i.id)).toEqual([
        identity.id,
      ]);

      const audit = await get(`/audit?identity_id=${identity.id}`);
      const entry = audit
        .json<{ items: { action: string; customer_id: string; before: { customer_id: string } }[] }>()
        .items.find((e) => e.action === 'identity.moved');
      expect(entry).toMatchObject({ customer_id: b.id, before: { customer_id: a.id } });
    });

    it('voids the live claim code of a moved identity', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const externalId = telegramId();
      const identity = await createIdentity(t.app, a.id, { channel: 'telegram', external_id: externalId });
      const { code } = await generateCode(t.app, a.id, identity.id);
      await post(`/customers/${a.id}/identities/${identity.id}/move`, { customer_id: b.id });
      const claim = await post('/customers/identities/claim', { channel: 'telegram', external_id: externalId, code });
      expect(claim.statusCode).toBe(400);
      expect((await lookup(externalId)).json().verified).toBe(false);
    });

    it('keeps the verification when asked to', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const identity = await createIdentity(t.app, a.id, { channel: 'telegram', external_id: telegramId() });
      await verify(a.id, identity.id);
      const moved = await post(`/customers/${a.id}/identities/${identity.id}/move`, {
        customer_id: b.id,
        keep_verification: true,
      });
      expect(moved.json()).toMatchObject({ verified: true, verified_via: 'operator', role_override: 'owner' });
    });

    it('answers 409 for the customer it is on, 404 for unknown ids, and changes nothing', async () => {
      const a = await createCustomer(t.app);
      const identity = await createIdentity(t.app, a.id, { channel: 'telegram', external_id: telegramId() });
      const move = (cid: string, iid: string, target: string) =>
        post(`/customers/${cid}/identities/${iid}/move`, { customer_id: target });
      expect((await move(a.id, identity.id, a.id)).statusCode).toBe(409);
      expect((await move(a.id, identity.id, randomUUID())).statusCode).toBe(404);
      expect((await move(a.id, randomUUID(), (await createCustomer(t.app)).id)).statusCode).toBe(404);
      expect((await move(randomUUID(), identity.id, a.id)).statusCode).toBe(404);
      const bad = await post(`/customers/${a.id}/identities/${identity.id}/move`, { customer_id: 'nope' });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().detail[0].loc).toEqual(['body', 'customer_id']);
      expect((await get(`/customers/${a.id}/identities`)).json()[0].id).toBe(identity.id);
    });
  });

  describe('merge', () => {
    async function pair() {
      const target = await createCustomer(t.app, { name: null, metadata: { plan: 'pro', tier: 1 } });
      const source = await createCustomer(t.app, { name: 'Steve', metadata: { plan: 'free', crm: 'x-1' } });
      const kept = await createIdentity(t.app, target.id, { channel: 'telegram', external_id: telegramId() });
      const s1 = await createIdentity(t.app, source.id, { channel: 'telegram', external_id: telegramId() });
      const s2 = await createIdentity(t.app, source.id, {
        channel: 'slack',
        external_id: `U${randomUUID().slice(0, 8)}`,
      });
      await verify(source.id, s1.id);
      return { target, source, kept, s1, s2 };
    }

    it('previews without writing anything', async () => {
      const { target, source, s1, s2 } = await pair();
      const preview = await post(`/customers/${target.id}/merge`, { source_customer_id: source.id, dry_run: true });
      expect(preview.statusCode, preview.body).toBe(200);
      const body = preview.json();
      expect(body.target.id).toBe(target.id);
      expect(body.source.id).toBe(source.id);
      expect(body.result).toMatchObject({
        id: target.id,
        email: target.email,
        name: 'Steve',
        metadata: { plan: 'pro', tier: 1, crm: 'x-1' },
      });
      // Oldest first; two links made in the same millisecond come in id order, so compare as sets.
      expect(body.identities_to_move.map((i: { id: string }) => i.id).sort()).toEqual([s1.id, s2.id].sort());
      expect((await get(`/customers/${source.id}`)).statusCode).toBe(200);
      expect((await get(`/customers/${source.id}/identities`)).json()).toHaveLength(2);
      expect((await get(`/merges?customer_id=${target.id}`)).json()).toEqual([]);
    });

    it('moves every identity as it is, merges the fields, and the source is gone (410 merged_into); undo brings it back exactly', async () => {
      const { target, source, kept, s1, s2 } = await pair();
      const sourceBefore = (await get(`/customers/${source.id}`)).json();
      const merged = await post(`/customers/${target.id}/merge`, { source_customer_id: source.id });
      expect(merged.statusCode, merged.body).toBe(200);
      const result = merged.json();
      expect(result).toMatchObject({
        merge_id: expect.any(String),
        target: { id: target.id, name: 'Steve', metadata: { plan: 'pro', tier: 1, crm: 'x-1' } },
      });
      expect([...result.moved_identity_ids].sort()).toEqual([s1.id, s2.id].sort());
      // Verification kept: both customers are the same person.
      expect((await lookup(s1.external_id)).json()).toMatchObject({
        customer_id: target.id,
        customer_email: target.email,
        verified: true,
      });
      const gone = await get(`/customers/${source.id}`);
      expect(gone.statusCode).toBe(410);
      expect(gone.json()).toEqual({ detail: 'Customer was merged', merged_into: target.id });
      expect((await get(`/customers/${source.id}/identities`)).statusCode).toBe(410);
      const onTarget = (await get(`/customers/${target.id}/identities`)).json().map((i: { id: string }) => i.id);
      expect(onTarget.sort()).toEqual([kept.id, s1.id, s2.id].sort());
      // Its email is free again.
      const reuse = await post('/customers', { email: source.email });
      expect(reuse.statusCode).toBe(201);
      await t.app.inject({ method: 'DELETE', url: `/v1/customers/${reuse.json().id}`, headers: t.admin });

      const list = await get(`/merges?customer_id=${source.id}`);
      expect(list.json()).toEqual([
        {
          merge_id: result.merge_id,
          target_customer_id: target.id,
          source_customer_id: source.id,
          merged_at: result.merged_at,
          undone_at: null,
        },
      ]);

      const undo = await post(`/merges/${result.merge_id}/undo`, {});
      expect(undo.statusCode, undo.body).toBe(200);
      expect(undo.json().source).toEqual(sourceBefore);
      expect(undo.json().moved_back_identity_ids.sort()).toEqual([s1.id, s2.id].sort());
      expect((await get(`/customers/${source.id}`)).json()).toEqual(sourceBefore);
      expect((await lookup(s1.external_id)).json()).toMatchObject({ customer_id: source.id, verified: true });
      // The target, untouched since, has its own name and metadata back.
      expect((await get(`/customers/${target.id}`)).json()).toMatchObject({
        name: null,
        metadata: { plan: 'pro', tier: 1 },
      });
      expect((await get(`/merges?customer_id=${target.id}`)).json()[0].undone_at).toEqual(expect.any(String));

      const twice = await post(`/merges/${result.merge_id}/undo`, {});
      expect(twice.statusCode).toBe(409);

      const audit = await get(`/audit?customer_id=${target.id}`);
      const merges = audit.json<{ items: { action: string; after: { merge_id: string } }[] }>().items;
      expect(merges.find((e) => e.action === 'customer.merged')?.after.merge_id).toBe(result.merge_id);
      const sourceAudit = await get(`/audit?customer_id=${source.id}`);
      expect(
        sourceAudit.json<{ items: { action: string }[] }>().items.find((e) => e.action === 'customer.unmerged'),
      ).toBeDefined();
    });

    it('undo is a 409 when the email was taken since, and changes nothing', async () => {
      const { target, source } = await pair();
      const merged = (await post(`/customers/${target.id}/merge`, { source_customer_id: source.id })).json();
      const usurper = await post('/customers', { email: source.email });
      expect(usurper.statusCode).toBe(201);
      const undo = await post(`/merges/${merged.merge_id}/undo`, {});
      expect(undo.statusCode).toBe(409);
      expect(undo.json().detail).toMatch(/email/);
      expect((await get(`/customers/${source.id}`)).statusCode).toBe(410);
      expect((await get(`/merges?customer_id=${target.id}`)).json()[0].undone_at).toBeNull();
    });

    it('refuses a self-merge (409), unknown ids (404), a merged id (410), an unknown merge (404)', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const c = await createCustomer(t.app);
      expect((await post(`/customers/${a.id}/merge`, { source_customer_id: a.id })).statusCode).toBe(409);
      expect((await post(`/customers/${a.id}/merge`, { source_customer_id: randomUUID() })).statusCode).toBe(404);
      expect((await post(`/customers/${randomUUID()}/merge`, { source_customer_id: a.id })).statusCode).toBe(404);
      expect((await post(`/customers/${a.id}/merge`, { source_customer_id: 'x' })).statusCode).toBe(422);
      expect((await post(`/merges/${randomUUID()}/undo`, {})).statusCode).toBe(404);
      // A chain: B into C, then A into B (B is gone: 410 saying where), and C into B.
      expect((await post(`/customers/${c.id}/merge`, { source_customer_id: b.id })).statusCode).toBe(200);
      const intoGone = await post(`/customers/${b.id}/merge`, { source_customer_id: a.id });
      expect(intoGone.statusCode).toBe(410);
      expect(intoGone.json().merged_into).toBe(c.id);
      const fromGone = await post(`/customers/${a.id}/merge`, { source_customer_id: b.id });
      expect(fromGone.statusCode).toBe(410);
      expect((await get(`/customers/${a.id}`)).statusCode).toBe(200);
    });

    it('follows a chain of merges to where the identities are', async () => {
      const a = await createCustomer(t.app);
      const b = await createCustomer(t.app);
      const c = await createCustomer(t.app);
      await post(`/customers/${b.id}/merge`, { source_customer_id: a.id });
      await post(`/customers/${c.id}/merge`, { source_customer_id: b.id });
      expect((await get(`/customers/${a.id}`)).json().merged_into).toBe(c.id);
    });

    it('merges many identities in one transaction', async () => {
      const target = await createCustomer(t.app);
      const source = await createCustomer(t.app);
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        ids.push((await createIdentity(t.app, source.id, { channel: 'telegram', external_id: telegramId() })).id);
      }
      const merged = await post(`/customers/${target.id}/merge`, { source_customer_id: source.id });
      expect([...merged.json().moved_identity_ids].sort()).toEqual(ids.sort());
      expect((await get(`/customers/${target.id}/identities`)).json()).toHaveLength(40);
    });
  });
});
