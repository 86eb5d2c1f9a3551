import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

// Merges and their undos in any order: every identity must end on the customer a plain model of
// the story says, and an undo that cannot put things back is refused (409) rather than answered 200.

const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
let seq = 0;
const telegramId = () => String(700_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000 + (seq++ % 1000));

type Op = { kind: 'merge'; target: number; source: number } | { kind: 'undo'; pick: number };

interface ModelMerge {
  id: string;
  target: number;
  source: number;
  moved: string[];
  live: boolean;
}

describe.each(DIALECTS)('merges and undos in any order on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  const post = (url: string, payload: object = {}) =>
    t.app.inject({ method: 'POST', url: `/v1${url}`, headers: t.admin, payload });
  const get = (url: string) => t.app.inject({ url: `/v1${url}`, headers: t.admin });

  /** `count` customers with one or two telegram identities each; owner maps identity id → customer index. */
  async function people(count: number) {
    const customers: string[] = [];
    const owner = new Map<string, number>();
    const externalIds = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const c = await createCustomer(t.app, { name: `P${i}`, metadata: { i } });
      customers.push(c.id);
      for (let k = 0; k <= i % 2; k++) {
        const identity = await createIdentity(t.app, c.id, { channel: 'telegram', external_id: telegramId() });
        owner.set(identity.id, i);
        externalIds.set(identity.id, identity.external_id);
      }
    }
    return { customers, owner, externalIds };
  }

  /** Every identity where the model puts it: in its customer's list and in the lookup. */
  async function expectWhere(
    customers: string[],
    exists: boolean[],
    owner: Map<string, number>,
    externalIds: Map<string, string>,
  ) {
    for (const [i, id] of customers.entries()) {
      const listed = await get(`/customers/${id}/identities`);
      if (!exists[i]) {
        expect(listed.statusCode).toBe(410);
        continue;
      }
      const expected = [...owner].filter(([, o]) => o === i).map(([iid]) => iid);
      expect(
        listed
          .json<{ id: string }[]>()
          .map((x) => x.id)
          .sort(),
        `customer ${i}`,
      ).toEqual(expected.sort());
    }
    for (const [iid, o] of owner) {
      const found = await get(`/customers/lookup/identity?channel=telegram&external_id=${externalIds.get(iid)}`);
      expect(found.json().customer_id).toBe(customers[o]);
    }
  }

  it('undoing the earlier merge of a chain is refused (409 naming the later one) until the later is undone', async () => {
    const a = await createCustomer(t.app);
    const b = await createCustomer(t.app);
    const c = await createCustomer(t.app);
    const fromA = await createIdentity(t.app, a.id, { channel: 'telegram', external_id: telegramId() });
    const fromB = await createIdentity(t.app, b.id, { channel: 'telegram', external_id: telegramId() });
    const ab = (await post(`/customers/${b.id}/merge`, { source_customer_id: a.id })).json().merge_id;
    const bc = (await post(`/customers/${c.id}/merge`, { source_customer_id: b.id })).json().merge_id;

    const early = await post(`/merges/${ab}/undo`);
    expect(early.statusCode, early.body).toBe(409);
    expect(early.json().detail).toMatch(/undo the later merge first/i);
    expect(early.json().detail).toContain(bc);
    expect((await get(`/customers/${a.id}`)).statusCode).toBe(410);
    expect(
      (await get(`/customers/${c.id}/identities`))
        .json()
        .map((i: { id: string }) => i.id)
        .sort(),
    ).toEqual([fromA.id, fromB.id].sort());

    expect((await post(`/merges/${bc}/undo`)).json().moved_back_identity_ids.sort()).toEqual(
      [fromA.id, fromB.id].sort(),
    );
    const undone = await post(`/merges/${ab}/undo`);
    expect(undone.statusCode, undone.body).toBe(200);
    expect(undone.json().moved_back_identity_ids).toEqual([fromA.id]);
    expect((await get(`/customers/${a.id}/identities`)).json().map((i: { id: string }) => i.id)).toEqual([fromA.id]);
    expect((await get(`/customers/${b.id}/identities`)).json().map((i: { id: string }) => i.id)).toEqual([fromB.id]);
    expect((await get(`/customers/${c.id}/identities`)).json()).toEqual([]);
  });

  it('an undo voids the claim code issued while the identity sat on the target', async () => {
    const source = await createCustomer(t.app);
    const target = await createCustomer(t.app);
    const externalId = telegramId();
    const identity = await createIdentity(t.app, source.id, { channel: 'telegram', external_id: externalId });
    const merged = (await post(`/customers/${target.id}/merge`, { source_customer_id: source.id })).json();
    const { code } = await generateCode(t.app, target.id, identity.id);
    expect((await post(`/merges/${merged.merge_id}/undo`)).statusCode).toBe(200);

    const claim = await post('/customers/identities/claim', { channel: 'telegram', external_id: externalId, code });
    expect(claim.statusCode, claim.body).toBe(400);
    const found = await get(`/customers/lookup/identity?channel=telegram&external_id=${externalId}`);
    expect(found.json()).toMatchObject({ customer_id: source.id, verified: false, role_override: null });
  });

  it('random merges and undos: every answer and every identity as the model says', async () => {
    const COUNT = 4;
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('merge' as const),
        target: fc.nat({ max: COUNT - 1 }),
        source: fc.nat({ max: COUNT - 1 }),
      }),
      fc.record({ kind: fc.constant('undo' as const), pick: fc.nat({ max: 99 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 24, size: 'max' }), async (ops) => {
        const { customers, owner, externalIds } = await people(COUNT);
        const exists = customers.map(() => true);
        const merges: ModelMerge[] = [];
        for (const step of ops) {
          if (step.kind === 'merge') {
            if (step.target === step.source) continue;
            const res = await post(`/customers/${customers[step.target]}/merge`, {
              source_customer_id: customers[step.source],
            });
            if (!exists[step.target] || !exists[step.source]) {
              expect(res.statusCode, res.body).toBe(410);
              continue;
            }
            expect(res.statusCode, res.body).toBe(200);
            const moved = [...owner].filter(([, o]) => o === step.source).map(([id]) => id);
            for (const id of moved) owner.set(id, step.target);
            exists[step.source] = false;
            merges.push({ id: res.json().merge_id, target: step.target, source: step.source, moved, live: true });
            continue;
          }
          if (merges.length === 0) continue;
          const m = merges[step.pick % merges.length] as ModelMerge;
          const res = await post(`/merges/${m.id}/undo`);
          if (!m.live || !exists[m.target]) {
            expect(res.statusCode, res.body).toBe(409);
            continue;
          }
          expect(res.statusCode, res.body).toBe(200);
          const back = m.moved.filter((id) => owner.get(id) === m.target);
          for (const id of back) owner.set(id, m.source);
          exists[m.source] = true;
          m.live = false;
          expect(res.json().moved_back_identity_ids.sort()).toEqual(back.sort());
        }
        await expectWhere(customers, exists, owner, externalIds);
      }),
      { numRuns: RUNS },
    );
  });

  it('random merges undone in random order (a refused one tried again later) bring everyone home', async () => {
    const COUNT = 6;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: COUNT - 1 }), fc.nat({ max: COUNT - 1 })), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        async (pairs, order) => {
          const { customers, owner, externalIds } = await people(COUNT);
          const home = new Map(owner);
          const pending: string[] = [];
          for (const [target, source] of pairs) {
            const res = await post(`/customers/${customers[target]}/merge`, {
              source_customer_id: customers[source],
            });
            if (res.statusCode === 200) pending.push(res.json().merge_id);
          }
          let turn = 0;
          while (pending.length > 0) {
            const [id] = pending.splice((order[turn++ % order.length] as number) % pending.length, 1);
            const res = await post(`/merges/${id}/undo`);
            if (res.statusCode === 409) pending.push(id as string);
            else expect(res.statusCode, res.body).toBe(200);
            expect(turn).toBeLessThan(2000);
          }
          await expectWhere(
            customers,
            customers.map(() => true),
            home,
            externalIds,
          );
        },
      ),
      { numRuns: Math.max(3, Math.round(RUNS / 3)) },
    );
  });
});
