import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

let seq = 0;
const telegramId = () => String(700_000_000_000 + Date.now() * 10 + (seq++ % 10));

/** Concurrent merges, moves and claims: every outcome is one of the orders they could have run in. */
describe.each(DIALECTS)('races of merges, moves and claims on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  const post = (url: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url: `/v1${url}`, headers: t.admin, payload: payload as object });
  const get = (url: string) => t.app.inject({ url: `/v1${url}`, headers: t.admin });
  const ownerOf = async (externalId: string) =>
    (await get(`/customers/lookup/identity?channel=telegram&external_id=${externalId}`)).json<{
      customer_id: string;
      verified: boolean;
    }>();

  it('two merges of one source at once: one wins, the other changes nothing', async () => {
    for (let round = 0; round < 4; round++) {
      const [t1, t2, source] = [await createCustomer(t.app), await createCustomer(t.app), await createCustomer(t.app)];
      const ids = [telegramId(), telegramId()];
      for (const id of ids) await createIdentity(t.app, source.id, { channel: 'telegram', external_id: id });
      const results = await Promise.all(
        [t1, t2].map((target) => post(`/customers/${target.id}/merge`, { source_customer_id: source.id })),
      );
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses[0]).toBe(200);
      expect([404, 410]).toContain(statuses[1]);
      const winner = results.find((r) => r.statusCode === 200)?.json<{ target: { id: string } }>().target.id;
      for (const id of ids) expect((await ownerOf(id)).customer_id).toBe(winner);
      const merges = (await get(`/merges?customer_id=${source.id}`)).json<unknown[]>();
      expect(merges).toHaveLength(1);
    }
  });

  it('a move during a merge: the identity ends where the order says, and the merge reports what it moved', async () => {
    for (let round = 0; round < 4; round++) {
      const [target, source, elsewhere] = [
        await createCustomer(t.app),
        await createCustomer(t.app),
        await createCustomer(t.app),
      ];
      const movingId = telegramId();
      const moving = await createIdentity(t.app, source.id, { channel: 'telegram', external_id: movingId });
      const stayingId = telegramId();
      const staying = await createIdentity(t.app, source.id, { channel: 'telegram', external_id: stayingId });
      const [merge, move] = await Promise.all([
        post(`/customers/${target.id}/merge`, { source_customer_id: source.id }),
        post(`/customers/${source.id}/identities/${moving.id}/move`, { customer_id: elsewhere.id }),
      ]);
      expect(merge.statusCode).toBe(200);
      const moved = merge.json<{ moved_identity_ids: string[] }>().moved_identity_ids;
      expect(moved).toContain(staying.id);
      if (move.statusCode === 200) {
        expect(moved).not.toContain(moving.id);
        expect((await ownerOf(movingId)).customer_id).toBe(elsewhere.id);
      } else {
        expect([404, 410]).toContain(move.statusCode);
        expect(moved).toContain(moving.id);
        expect((await ownerOf(movingId)).customer_id).toBe(target.id);
      }
      expect((await ownerOf(stayingId)).customer_id).toBe(target.id);
    }
  });

  it('a claim redeemed during a move: either order leaves it moved, unverified, and its code spent or void', async () => {
    for (let round = 0; round < 4; round++) {
      const [a, b] = [await createCustomer(t.app), await createCustomer(t.app)];
      const externalId = telegramId();
      const identity = await createIdentity(t.app, a.id, { channel: 'telegram', external_id: externalId });
      const { code } = await generateCode(t.app, a.id, identity.id);
      const [claim, move] = await Promise.all([
        post('/customers/identities/claim', { channel: 'telegram', external_id: externalId, code }),
        post(`/customers/${a.id}/identities/${identity.id}/move`, { customer_id: b.id }),
      ]);
      expect(move.statusCode).toBe(200);
      expect([200, 400]).toContain(claim.statusCode);
      // The move came last either way (a claim after it finds no code): the proof stays behind.
      expect(await ownerOf(externalId)).toMatchObject({ customer_id: b.id, verified: false });
      const again = await post('/customers/identities/claim', { channel: 'telegram', external_id: externalId, code });
      expect(again.statusCode).toBe(400);
      const codes = await t.app.services.db.kysely
        .selectFrom('claim_codes')
        .select('identity_id')
        .where('identity_id', '=', identity.id)
        .execute();
      expect(codes).toEqual([]);
    }
  });

  it('a chain (A into B while B merges into C): one order or the other, no identity lost', async () => {
    for (let round = 0; round < 4; round++) {
      const [a, b, c] = [await createCustomer(t.app), await createCustomer(t.app), await createCustomer(t.app)];
      const ofA = telegramId();
      const ofB = telegramId();
      await createIdentity(t.app, a.id, { channel: 'telegram', external_id: ofA });
      await createIdentity(t.app, b.id, { channel: 'telegram', external_id: ofB });
      const [aIntoB, bIntoC] = await Promise.all([
        post(`/customers/${b.id}/merge`, { source_customer_id: a.id }),
        post(`/customers/${c.id}/merge`, { source_customer_id: b.id }),
      ]);
      expect(bIntoC.statusCode).toBe(200);
      expect((await ownerOf(ofB)).customer_id).toBe(c.id);
      if (aIntoB.statusCode === 200) {
        // A into B first, then all of B (A's too) into C.
        expect((await ownerOf(ofA)).customer_id).toBe(c.id);
        expect((await get(`/customers/${a.id}`)).json().merged_into).toBe(c.id);
      } else {
        expect(aIntoB.statusCode).toBe(410);
        expect(aIntoB.json().merged_into).toBe(c.id);
        expect((await ownerOf(ofA)).customer_id).toBe(a.id);
      }
    }
  });
});
