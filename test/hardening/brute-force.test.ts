import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_ALPHABET, MAX_ATTEMPTS } from '../../src/features/claims/claims.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey, generateCode } from '../helpers/factories.js';

const ATTACKED = 100;
const UNTOUCHED = 5;
const GUESSES = 1_000;
const CONCURRENCY = 25;

function randomCode(): string {
  let code = '';
  for (let i = 0; i < 6; i++) code += CODE_ALPHABET[Math.floor(Math.random() * CODE_ALPHABET.length)];
  return code;
}

/** With the default limits: 10 failures per sender, 600 per key, 5 attempts per code. */
describe.each(DIALECTS)('a thousand wrong claims on $name', (dialect) => {
  let t: TestApp;
  const targets: { customerId: string; identityId: string; externalId: string; code: string }[] = [];
  beforeAll(async () => {
    t = await buildTestApp(dialect);
    for (let i = 0; i < ATTACKED + UNTOUCHED; i++) {
      const customer = await createCustomer(t.app);
      const externalId = String(1_000_000 + i);
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
      const { code } = await generateCode(t.app, customer.id, identity.id);
      targets.push({ customerId: customer.id, identityId: identity.id, externalId, code });
    }
  }, 60_000);
  afterAll(() => t.close());

  it('end in 429s and void codes, and no wrong guess ever redeems a code', async () => {
    const attacker = (await createKey(t.app, 'runtime', 'attacker')).key;
    const attacked = targets.slice(0, ATTACKED);
    const guesses = Array.from({ length: GUESSES }, (_, i) => {
      const target = attacked[i % ATTACKED];
      if (!target) throw new Error('no target');
      let code = randomCode();
      while (code === target.code) code = randomCode();
      return { target, code };
    });
    const statuses: number[] = [];
    for (let i = 0; i < guesses.length; i += CONCURRENCY) {
      const batch = guesses.slice(i, i + CONCURRENCY).map(({ target, code }) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/customers/identities/claim',
          headers: { 'x-api-key': attacker },
          payload: { channel: 'telegram', external_id: target.externalId, code },
        }),
      );
      for (const response of await Promise.all(batch)) {
        statuses.push(response.statusCode);
        if (response.statusCode === 429) expect(response.headers['retry-after']).toBeDefined();
      }
    }
    const tally = (status: number) => statuses.filter((s) => s === status).length;
    expect(tally(200)).toBe(0);
    expect(tally(400) + tally(429)).toBe(GUESSES);
    // At most 600 failures per key are compared at all; the rest were refused unseen.
    expect(tally(400)).toBeLessThanOrEqual(600);
    expect(tally(429)).toBeGreaterThanOrEqual(GUESSES - 600);

    // Every attacked code took its five attempts and is void: no guess could have reached a sixth.
    const rows = await t.app.services.db.kysely.selectFrom('claim_codes').select(['identity_id', 'attempts']).execute();
    const attempts = new Map(rows.map((r) => [r.identity_id, Number(r.attempts)]));
    for (const target of attacked) expect(attempts.get(target.identityId)).toBe(MAX_ATTEMPTS);

    const honest = (await createKey(t.app, 'runtime', 'honest')).key;
    const redeem = (target: (typeof targets)[number]) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/customers/identities/claim',
        headers: { 'x-api-key': honest },
        payload: { channel: 'telegram', external_id: target.externalId, code: target.code },
      });
    // The right code of an attacked identity no longer works (void, and the sender is throttled).
    for (const target of attacked.slice(0, 10)) {
      expect([400, 429]).toContain((await redeem(target)).statusCode);
    }
    // Nobody was verified by the attack.
    for (const target of attacked) {
      const lookup = await t.app.inject({
        url: `/v1/customers/lookup/identity?channel=telegram&external_id=${target.externalId}`,
        headers: t.admin,
      });
      expect(lookup.json().verified).toBe(false);
    }
    // Identities nobody guessed at still claim with their codes, even after the flood.
    for (const target of targets.slice(ATTACKED)) {
      const response = await redeem(target);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ verified: true, role_override: 'owner' });
    }
    // The operator rescues an attacked identity with a new code: the key's budget ran out before
    // any sender's (6 of 10 failures each), and the new code was never guessed at.
    const [first] = attacked;
    if (!first) throw new Error('no target');
    const fresh = await generateCode(t.app, first.customerId, first.identityId);
    expect((await redeem({ ...first, code: fresh.code })).statusCode).toBe(200);
  }, 120_000);
});
