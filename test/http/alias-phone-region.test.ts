import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../src/cli/data.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

// An alias is read like the identity's own external id: a national number in DEFAULT_PHONE_REGION.

const dir = mkdtempSync(join(tmpdir(), 'ids-alias-region-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
/** A UK mobile number written nationally (07400 1xxxxx), and its E.164. */
const ukMobile = () => {
  const n = String(100_000 + ((Math.floor(Math.random() * 800_000) + seq++) % 800_000)).padStart(6, '0');
  return { national: `07400 ${n}`, e164: `+447400${n}` };
};

describe.each(DIALECTS)('aliases with DEFAULT_PHONE_REGION=GB on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { DEFAULT_PHONE_REGION: 'GB' });
  });
  afterAll(() => t.close());

  const lookup = (externalId: string) =>
    t.app.inject({
      url: `/v1/customers/lookup/identity?channel=sms&external_id=${encodeURIComponent(externalId)}`,
      headers: t.admin,
    });

  it('adds, finds and removes an alias written as a national number', async () => {
    const customer = await createCustomer(t.app);
    const own = ukMobile();
    const alias = ukMobile();
    const identity = await createIdentity(t.app, customer.id, { channel: 'sms', external_id: own.national });
    expect(identity.external_id).toBe(own.e164);

    const added = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${customer.id}/identities/${identity.id}/aliases`,
      headers: t.admin,
      payload: { external_id: alias.national },
    });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().aliases).toEqual([alias.e164]);
    expect((await lookup(alias.national)).json()).toMatchObject({ identity_id: identity.id });

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${customer.id}/identities/${identity.id}/aliases/${encodeURIComponent(alias.national)}`,
      headers: t.admin,
    });
    expect(removed.statusCode, removed.body).toBe(204);
    expect((await lookup(alias.national)).statusCode).toBe(404);
  });

  it('imports an alias written as a national number', async () => {
    const own = ukMobile();
    const alias = ukMobile();
    const path = join(dir, `${randomUUID()}.jsonl`);
    const line = {
      email: `gb-${randomUUID()}@example.com`,
      identities: [{ channel: 'sms', external_id: own.national, aliases: [alias.national] }],
    };
    writeFileSync(path, `${JSON.stringify(line)}\n`);
    const summary = await importFile(t.app.services, path, { quiet: true });
    expect(summary.badLines).toEqual([]);
    expect(summary).toMatchObject({ customers: 1, skipped: 0 });
    const found = await lookup(alias.e164);
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ external_id: own.e164 });
  });
});
