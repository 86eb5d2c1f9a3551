import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { postgres, postgresUrl } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

// Issue 18, item 13: a redemption racing the deletion of its identity, or a new code for it, took
// the claim code's row lock and then the identity's, while those took them the other way round:
// PostgreSQL broke the deadlock (40P01) by failing one of them, a 500. Through a real socket, so
// that the requests truly overlap in the database; many rounds, as a deadlock needs both
// transactions between their two locks at once.

const ROUNDS = 40;
let next = 1_800_130_000;

describe.runIf(postgresUrl)('redemption racing deletion and reissue on PostgreSQL', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await buildTestApp(postgres, { RATE_LIMIT_CLAIM_PER_IDENTITY: '0', RATE_LIMIT_CLAIM_PER_KEY: '0' });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => t.close());

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-api-key': ADMIN_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };

  async function claimable() {
    const customer = await createCustomer(t.app);
    const externalId = String(next++);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    const path = `/v1/customers/${customer.id}/identities/${identity.id}`;
    const redeem = () =>
      call('POST', '/v1/customers/identities/claim', { channel: 'telegram', external_id: externalId, code });
    return { customer, identity, path, redeem };
  }

  it('a redemption and the deletion of its identity: one order or the other, never a 500', async () => {
    const seen: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { identity, path, redeem } = await claimable();
      const [redeemed, deleted] = await Promise.all([redeem(), call('DELETE', path)]);
      seen.push(`${redeemed.status}/${deleted.status}`);
      expect([200, 400], redeemed.text).toContain(redeemed.status);
      expect(deleted.status, deleted.text).toBe(204);
      const left = await t.app.services.db.kysely
        .selectFrom('claim_codes')
        .select('identity_id')
        .where('identity_id', '=', identity.id)
        .execute();
      expect(left).toEqual([]);
    }
    expect(seen).toHaveLength(ROUNDS);
    // Not a deadlock retried away: none happened (one lock order everywhere).
    expect(t.app.services.transactionRetries).toEqual({ retried: 0, gave_up: 0 });
  }, 120_000);

  it('a redemption and a new code for the same identity: the redemption wins and the new code is refused, or the old code is void', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { customer, identity, path, redeem } = await claimable();
      const [redeemed, reissued] = await Promise.all([redeem(), call('POST', `${path}/claim-code`)]);
      expect([200, 400], redeemed.text).toContain(redeemed.status);
      expect([201, 409], reissued.text).toContain(reissued.status);
      // Exactly one of them took effect.
      expect(redeemed.status === 200, `${redeemed.status}/${reissued.status}`).toBe(reissued.status === 409);
      const listed = await call('GET', `/v1/customers/${customer.id}/identities`);
      const [row] = JSON.parse(listed.text) as { id: string; verified: boolean }[];
      expect(row?.id).toBe(identity.id);
      expect(row?.verified).toBe(redeemed.status === 200);
    }
    expect(t.app.services.transactionRetries).toEqual({ retried: 0, gave_up: 0 });
  }, 120_000);
});
