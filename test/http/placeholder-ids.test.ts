import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../src/cli/data.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey } from '../helpers/factories.js';

// An external id that stands for no one (a runtime's `String(undefined)`, a default of -1, an
// empty GUID) is a 422 wherever an id is linked or looked up, instead of one customer for everyone.

const dir = mkdtempSync(join(tmpdir(), 'ids-placeholders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PLACEHOLDERS = [
  'null',
  'NULL',
  'Undefined',
  ' none ',
  'nil',
  'NaN',
  'unknown',
  'Anonymous',
  '[object Object]',
  '-1',
  '0',
  '---',
  '00000000-0000-0000-0000-000000000000',
];

describe('BLOCKED_EXTERNAL_IDS', () => {
  it('stops the service at start with a message naming a bad expression', () => {
    expect(() => loadConfig({ BLOCKED_EXTERNAL_IDS: 'test-.*,bot[' })).toThrow(ConfigError);
    expect(() => loadConfig({ BLOCKED_EXTERNAL_IDS: 'test-.*,bot[' })).toThrow(
      /BLOCKED_EXTERNAL_IDS: "bot\[" is not a valid regular expression/,
    );
    expect(loadConfig({}).blockedExternalIds).toEqual([]);
    expect(loadConfig({ BLOCKED_EXTERNAL_IDS: ' a+ , ,b ' }).blockedExternalIds).toHaveLength(2);
  });
});

describe.each(DIALECTS)('placeholder external ids on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { BLOCKED_EXTERNAL_IDS: 'test-[0-9]+,bot_.*' });
  });
  afterAll(() => t.close());

  const createBody = (cid: string, payload: object) =>
    t.app.inject({ method: 'POST', url: `/v1/customers/${cid}/identities`, headers: t.admin, payload });
  const lookup = (channel: string, externalId: string) =>
    t.app.inject({
      url: `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}`,
      headers: t.admin,
    });
  const expectRefused = (response: { statusCode: number; body: string; json(): unknown }, loc: unknown[]) => {
    expect(response.statusCode, response.body).toBe(422);
    expect((response.json() as { detail: unknown[] }).detail).toEqual([
      { type: 'value_error', loc, msg: expect.stringMatching(/^Value error, external_id .*(placeholder|blocked)/) },
    ]);
  };

  it('refuses a placeholder on create, in any case, and links nothing', async () => {
    const customer = await createCustomer(t.app);
    for (const externalId of PLACEHOLDERS) {
      expectRefused(await createBody(customer.id, { channel: 'mastodon', external_id: externalId }), [
        'body',
        'external_id',
      ]);
    }
    // Telegram reads the number first: -0 and 000 are 0.
    for (const externalId of ['-1', '0', '-0', '000']) {
      expectRefused(await createBody(customer.id, { channel: 'telegram', external_id: externalId }), [
        'body',
        'external_id',
      ]);
    }
    const listed = await t.app.inject({ url: `/v1/customers/${customer.id}/identities`, headers: t.admin });
    expect(listed.json()).toEqual([]);
  });

  it('takes ids that only contain such words or digits', async () => {
    const customer = await createCustomer(t.app);
    const suffix = randomUUID().slice(0, 6);
    for (const externalId of [`nullable-${suffix}`, `unknown_${suffix}`, `0-1${suffix}`, `-10${suffix}`]) {
      const created = await createBody(customer.id, { channel: 'mastodon', external_id: externalId });
      expect(created.statusCode, externalId).toBe(201);
    }
    const telegram = await createBody(customer.id, { channel: 'telegram', external_id: `-100${Date.now()}` });
    expect(telegram.statusCode).toBe(201);
  });

  it('refuses each BLOCKED_EXTERNAL_IDS expression matched whole, ignoring case', async () => {
    const customer = await createCustomer(t.app);
    for (const externalId of ['test-42', 'TEST-7', 'bot_', 'Bot_anything']) {
      expectRefused(await createBody(customer.id, { channel: 'mastodon', external_id: externalId }), [
        'body',
        'external_id',
      ]);
      expectRefused(await lookup('mastodon', externalId), ['query', 'external_id']);
    }
    for (const externalId of [`test-42x${randomUUID()}`, `a-bot_${randomUUID()}`]) {
      expect((await createBody(customer.id, { channel: 'mastodon', external_id: externalId })).statusCode).toBe(201);
    }
  });

  it('refuses a placeholder link request, and asks nobody', async () => {
    for (const externalId of ['undefined', 'NULL', '0000', 'test-9']) {
      const asked = await t.app.inject({
        method: 'POST',
        url: '/v1/link-requests',
        headers: t.admin,
        payload: { channel: 'mastodon', external_id: externalId },
      });
      expectRefused(asked, ['body', 'external_id']);
    }
    const listed = await t.app.inject({ url: '/v1/link-requests', headers: t.admin });
    expect(listed.json().items).toEqual([]);
  });

  it('refuses a placeholder alias', async () => {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'mastodon', external_id: randomUUID() });
    for (const alias of ['undefined', '[object Object]', '0000']) {
      const added = await t.app.inject({
        method: 'POST',
        url: `/v1/customers/${customer.id}/identities/${identity.id}/aliases`,
        headers: t.admin,
        payload: { external_id: alias },
      });
      expectRefused(added, ['body', 'external_id']);
    }
    const listed = await t.app.inject({ url: `/v1/customers/${customer.id}/identities`, headers: t.admin });
    expect(listed.json()[0].aliases).toEqual([]);
  });

  it('refuses a placeholder lookup, through the server and its fast path too', async () => {
    for (const externalId of ['undefined', 'null', 'Nil', '00-00']) {
      expectRefused(await lookup('mastodon', externalId), ['query', 'external_id']);
    }
    for (const externalId of ['-1', '0']) {
      expectRefused(await lookup('telegram', externalId), ['query', 'external_id']);
    }
    const runtime = await createKey(t.app, 'runtime');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = (externalId: string) =>
      `http://127.0.0.1:${port}/v1/customers/lookup/identity?channel=mastodon&external_id=${encodeURIComponent(externalId)}`;
    // A known key and a warm cache: the fast path answers cached keys, and hands a placeholder on.
    const known = randomUUID();
    await createIdentity(t.app, (await createCustomer(t.app)).id, { channel: 'mastodon', external_id: known });
    for (let i = 0; i < 3; i++) {
      expect((await fetch(url(known), { headers: { 'x-api-key': runtime.key } })).status).toBe(200);
    }
    for (const externalId of ['undefined', 'NULL', '[object Object]']) {
      const response = await fetch(url(externalId), { headers: { 'x-api-key': runtime.key } });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { detail: { loc: unknown[] }[] }).detail[0]?.loc).toEqual([
        'query',
        'external_id',
      ]);
    }
  });

  it('reports an import line with a placeholder by its number and imports the others', async () => {
    const line = (email: string, identities: object[]) => JSON.stringify({ email, identities });
    const path = join(dir, `${randomUUID()}.jsonl`);
    const good = `ok-${randomUUID()}@example.com`;
    writeFileSync(
      path,
      `${[
        line(good, [{ channel: 'mastodon', external_id: randomUUID() }]),
        line(`p1-${randomUUID()}@example.com`, [{ channel: 'mastodon', external_id: 'undefined' }]),
        line(`p2-${randomUUID()}@example.com`, [{ channel: 'mastodon', external_id: randomUUID(), aliases: ['null'] }]),
        line(`p3-${randomUUID()}@example.com`, [{ channel: 'mastodon', external_id: 'TEST-12' }]),
      ].join('\n')}\n`,
    );
    const summary = await importFile(t.app.services, path, { quiet: true });
    expect(summary).toMatchObject({ customers: 1, skipped: 3 });
    const bad = new Map(summary.badLines.map((b) => [b.line, b.message]));
    expect(bad.get(2)).toMatch(/^identities\.0\.external_id: Value error, external_id "undefined" is a placeholder/);
    expect(bad.get(3)).toMatch(/^identities\.0\.aliases\.0: Value error, external_id "null" is a placeholder/);
    expect(bad.get(4)).toMatch(/^identities\.0\.external_id: .*BLOCKED_EXTERNAL_IDS/);
  });
});
