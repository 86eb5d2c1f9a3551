import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

const bsuid = () => `US.${randomUUID().replace(/-/g, '').slice(0, 20)}`;
const phone = () => `+1650555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

describe.each(DIALECTS)('aliases and verified_via on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  const addAlias = (cid: string, iid: string, externalId: string) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/customers/${cid}/identities/${iid}/aliases`,
      headers: t.admin,
      payload: { external_id: externalId },
    });
  const removeAlias = (cid: string, iid: string, externalId: string) =>
    t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${cid}/identities/${iid}/aliases/${encodeURIComponent(externalId)}`,
      headers: t.admin,
    });
  const lookup = (channel: string, externalId: string) =>
    t.app.inject({
      url: `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}`,
      headers: t.admin,
    });

  it('adds a BSUID alias (country prefix uppercased) that lookups answer as the identity itself', async () => {
    const customer = await createCustomer(t.app);
    const number = phone();
    const identity = await createIdentity(t.app, customer.id, { channel: 'whatsapp', external_id: number });
    const alias = bsuid();
    const lower = `us${alias.slice(2)}`;
    // Warm the cache with "nobody has it": adding the alias must drop that answer.
    expect((await lookup('whatsapp', alias)).statusCode).toBe(404);
    const added = await addAlias(customer.id, identity.id, lower);
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toMatchObject({ id: identity.id, external_id: number, aliases: [alias] });

    const byAlias = await lookup('whatsapp', lower);
    expect(byAlias.statusCode).toBe(200);
    expect(byAlias.json()).toMatchObject({ identity_id: identity.id, external_id: number, customer_id: customer.id });

    const listed = await t.app.inject({ url: `/v1/customers/${customer.id}/identities`, headers: t.admin });
    expect(listed.json()[0].aliases).toEqual([alias]);

    // A change to the identity reaches the answer cached under the alias.
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers: t.admin,
      payload: { display_name: 'Sheena' },
    });
    expect((await lookup('whatsapp', alias)).json().display_name).toBe('Sheena');

    const removed = await removeAlias(customer.id, identity.id, alias);
    expect(removed.statusCode).toBe(204);
    expect((await lookup('whatsapp', alias)).statusCode).toBe(404);
    expect((await lookup('whatsapp', number)).statusCode).toBe(200);
    expect((await removeAlias(customer.id, identity.id, alias)).statusCode).toBe(404);
  });

  it('refuses an alias that is any identity external id or alias, saying with whom (409), and changes nothing', async () => {
    const a = await createCustomer(t.app);
    const b = await createCustomer(t.app);
    const first = await createIdentity(t.app, a.id, { channel: 'whatsapp', external_id: phone() });
    const second = await createIdentity(t.app, b.id, { channel: 'whatsapp', external_id: phone() });
    const alias = bsuid();
    expect((await addAlias(a.id, first.id, alias)).statusCode).toBe(201);

    const taken = await addAlias(b.id, second.id, alias);
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({
      detail: 'This channel identity is already linked to a customer',
      conflict: { customer_id: a.id, identity_id: first.id },
    });
    const asExternalId = await addAlias(b.id, second.id, first.external_id);
    expect(asExternalId.json().conflict).toEqual({ customer_id: a.id, identity_id: first.id });
    // Nor can a new identity take an alias as its external id.
    const create = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${b.id}/identities`,
      headers: t.admin,
      payload: { channel: 'whatsapp', external_id: alias },
    });
    expect(create.statusCode).toBe(409);
    expect(create.json().conflict).toEqual({ customer_id: a.id, identity_id: first.id });
    const list = await t.app.inject({ url: `/v1/customers/${b.id}/identities`, headers: t.admin });
    expect(list.json()).toHaveLength(1);
    expect(list.json()[0].aliases).toEqual([]);
  });

  it('answers bad aliases with 422 and unknown identities with 404', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'whatsapp', external_id: phone() });
    for (const bad of ['not a phone', 'US.', 'U.123', '']) {
      const response = await addAlias(customer.id, identity.id, bad);
      expect(response.statusCode, bad).toBe(422);
      expect(response.json().detail[0].loc).toEqual(['body', 'external_id']);
    }
    expect((await addAlias(customer.id, randomUUID(), bsuid())).statusCode).toBe(404);
    expect((await addAlias(randomUUID(), identity.id, bsuid())).statusCode).toBe(404);
  });

  it('two concurrent creations of one alias: exactly one wins', async () => {
    const a = await createCustomer(t.app);
    const b = await createCustomer(t.app);
    const x = await createIdentity(t.app, a.id, { channel: 'whatsapp', external_id: phone() });
    const y = await createIdentity(t.app, b.id, { channel: 'whatsapp', external_id: phone() });
    const alias = bsuid();
    const results = await Promise.all([addAlias(a.id, x.id, alias), addAlias(b.id, y.id, alias)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const winner = results.find((r) => r.statusCode === 201)?.json() as { id: string; customer_id: string };
    expect(results.find((r) => r.statusCode === 409)?.json().conflict).toEqual({
      customer_id: winner.customer_id,
      identity_id: winner.id,
    });
    expect((await lookup('whatsapp', alias)).json().identity_id).toBe(winner.id);
  });

  it('redeems a claim code sent from an alias', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'whatsapp', external_id: phone() });
    const alias = bsuid();
    await addAlias(customer.id, identity.id, alias);
    const { code } = await generateCode(t.app, customer.id, identity.id);
    const claim = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: t.admin,
      payload: { channel: 'whatsapp', external_id: alias, code },
    });
    expect(claim.statusCode, claim.body).toBe(200);
    expect(claim.json()).toMatchObject({
      id: identity.id,
      verified: true,
      verified_via: 'claim_code',
      aliases: [alias],
    });
    expect((await lookup('whatsapp', alias)).json()).toMatchObject({ verified: true, verified_via: 'claim_code' });
  });

  it('says how a link was proven: operator on PATCH, null again when unverified', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '8801' });
    const patch = (verified: boolean) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        headers: t.admin,
        payload: { verified },
      });
    expect((await patch(true)).json()).toMatchObject({ verified: true, verified_via: 'operator' });
    expect((await lookup('telegram', '8801')).json()).toMatchObject({ verified: true, verified_via: 'operator' });
    expect((await patch(false)).json()).toMatchObject({ verified: false, verified_via: null });
    expect((await lookup('telegram', '8801')).json()).toMatchObject({ verified: false, verified_via: null });
  });

  it('audits alias changes with the identity before and after', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'whatsapp', external_id: phone() });
    const alias = bsuid();
    await addAlias(customer.id, identity.id, alias);
    await removeAlias(customer.id, identity.id, alias);
    const audit = await t.app.inject({ url: `/v1/audit?identity_id=${identity.id}`, headers: t.admin });
    const items = audit.json<{
      items: { action: string; before: { aliases: string[] }; after: { aliases: string[] } }[];
    }>().items;
    const added = items.find((e) => e.action === 'identity.alias_added');
    const removed = items.find((e) => e.action === 'identity.alias_removed');
    expect(added?.before.aliases).toEqual([]);
    expect(added?.after.aliases).toEqual([alias]);
    expect(removed?.before.aliases).toEqual([alias]);
    expect(removed?.after.aliases).toEqual([]);
  });
});
