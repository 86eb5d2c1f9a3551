import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { exportTo, importFile } from '../../src/cli/data.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { runCli } from '../helpers/cli.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

const dir = mkdtempSync(join(tmpdir(), 'ids-hostile-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const admin = { 'x-api-key': ADMIN_KEY };

function file(name: string, lines: string[]) {
  const path = join(dir, `${randomUUID()}-${name}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const arrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const telegramLine = (email: string, externalId: string) =>
  JSON.stringify({ email, identities: [{ channel: 'telegram', external_id: externalId }] });
const manyIdentities = (email: string, count: number, first: number) =>
  JSON.stringify({
    email,
    identities: Array.from({ length: count }, (_, i) => ({ channel: 'telegram', external_id: String(first + i) })),
  });

/** The command line's export of the app's database, to a file. */
async function exportFile(t: TestApp, name: string) {
  const path = join(dir, `${randomUUID()}-${name}.jsonl`);
  const out = createWriteStream(path);
  await exportTo(t.app.services, out);
  out.end();
  await once(out, 'finish');
  return path;
}

async function lookup(app: FastifyInstance, externalId: string) {
  return app.inject({
    url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
    headers: admin,
  });
}

/** The command line, as another process on the test's database (on SQLite the two share a file). */
describe.each(DIALECTS)('identity-service import of hostile lines on $name', (dialect) => {
  let url: string;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  const cli = (env: Record<string, string>, ...args: string[]) => runCli(args, { DATABASE_URL: url, ...env });

  beforeAll(async () => {
    const database = await createSharedDatabase(dialect);
    url = database.url;
    dispose = database.dispose;
    app = await buildApp(loadConfig({ DATABASE_URL: url, BOOTSTRAP_API_KEY: ADMIN_KEY }), { logger: false });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  it('reports a deeply nested line by its number, skips it, and imports the good lines (exit 2, not 1)', async () => {
    const input = file('deep.jsonl', [
      telegramLine('deep-good1@example.com', '640001'),
      `{"email":"deep-meta@example.com","metadata":{"a":${arrays(8_000)}}}`,
      arrays(8_000),
      `{"email":"deep-extra@example.com","extra":${arrays(64)}}`,
      telegramLine('deep-good2@example.com', '640005'),
    ]);
    const result = await cli({}, 'import', input);
    expect(result.code, result.stderr).toBe(2);
    for (const line of [2, 3, 4]) {
      expect(result.stderr).toMatch(
        new RegExp(`^line ${line}: the JSON is nested more than 64 levels deep \\(skipped\\)$`, 'm'),
      );
    }
    expect(result.stdout).toMatch(/Imported 2 customers with 2 identities in .*; 3 skipped\./);
    expect((await lookup(app, '640001')).statusCode).toBe(200);
    expect((await lookup(app, '640005')).json()).toMatchObject({ customer_email: 'deep-good2@example.com' });
  });

  it('refuses a customer with more identities than MAX_IDENTITIES_PER_CUSTOMER, as the API would, by the setting', {
    timeout: 90_000,
  }, async () => {
    const input = file('many.jsonl', [
      manyIdentities('many-101@example.com', 101, 6_500_000),
      manyIdentities('many-100@example.com', 100, 6_600_000),
    ]);
    const refused = await cli({}, 'import', input);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(
      /^line 1: identities: the customer would have 101 identities; at most 100 are allowed \(MAX_IDENTITIES_PER_CUSTOMER\) \(skipped\)$/m,
    );
    expect((await lookup(app, '6500000')).statusCode).toBe(404);
    expect((await lookup(app, '6600099')).statusCode).toBe(200);

    // A backup of a database that allowed more is restored under the same, higher setting: the
    // old fixed bound (1,000 identities a line) is gone.
    const more = file('more.jsonl', [
      manyIdentities('many-101@example.com', 101, 6_500_000),
      manyIdentities('many-1500@example.com', 1_500, 6_700_000),
    ]);
    const imported = await cli({ MAX_IDENTITIES_PER_CUSTOMER: '1500' }, 'import', more);
    expect(imported.code, imported.stderr).toBe(0);
    expect((await lookup(app, '6500100')).statusCode).toBe(200);
    expect((await lookup(app, '6701499')).statusCode).toBe(200);
  });
});

describe.each(DIALECTS)('import and merges on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('refuses a line that would bring back a merged-away customer id; the merge can still be undone', async () => {
    const target = await createCustomer(t.app, { email: 'kept@example.com' });
    const source = await createCustomer(t.app, { email: 'gone@example.com', name: 'Gone' });
    await createIdentity(t.app, source.id, { channel: 'telegram', external_id: '810001' });
    const merged = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${target.id}/merge`,
      headers: t.admin,
      payload: { source_customer_id: source.id },
    });
    expect(merged.statusCode).toBe(200);

    const path = file('resurrect.jsonl', [
      telegramLine('before@example.com', '810002'),
      JSON.stringify({ id: source.id, email: 'impostor@example.com', identities: [] }),
      JSON.stringify({ id: source.id.toUpperCase(), email: 'upper@example.com' }),
      telegramLine('after@example.com', '810004'),
    ]);
    const summary = await importFile(t.app.services, path, { quiet: true });
    expect(summary).toMatchObject({ customers: 2, identities: 2, skipped: 2 });
    expect(summary.badLines.map((b) => [b.line, b.message])).toEqual([
      [2, expect.stringMatching(new RegExp(`^customer ${source.id} was merged into ${target.id}; undo that merge`))],
      [3, expect.stringMatching(new RegExp(`^customer ${source.id} was merged into ${target.id}`))],
    ]);
    expect((await lookup(t.app, '810002')).statusCode).toBe(200);
    expect((await lookup(t.app, '810004')).statusCode).toBe(200);

    const gone = await t.app.inject({ url: `/v1/customers/${source.id}`, headers: t.admin });
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ merged_into: target.id });
    const undo = await t.app.inject({
      method: 'POST',
      url: `/v1/merges/${merged.json().merge_id}/undo`,
      headers: t.admin,
    });
    expect(undo.statusCode, undo.body).toBe(200);
    expect(undo.json().source).toMatchObject({ id: source.id, email: 'gone@example.com', name: 'Gone' });
    expect((await lookup(t.app, '810001')).json()).toMatchObject({ customer_id: source.id });
  });
});

describe.each(DIALECTS)('a backup by export and import on $name', (dialect) => {
  let source: TestApp;
  let target: TestApp;
  beforeAll(async () => {
    [source, target] = await Promise.all([buildTestApp(dialect), buildTestApp(dialect)]);
  });
  afterAll(async () => {
    await source.close();
    await target.close();
  });

  it('export → import into an empty database → export gives the same file, whatever the API let customers hold', {
    timeout: 60_000,
  }, async () => {
    // Two customers of 15 KB of metadata each: the merge that would store 30 KB is refused, so
    // every customer the API holds is one the import takes.
    const a = await createCustomer(source.app, { email: 'fifteen-a@example.com', metadata: { a: 'x'.repeat(15_000) } });
    const b = await createCustomer(source.app, { email: 'fifteen-b@example.com', metadata: { b: 'y'.repeat(15_000) } });
    const merge = await source.app.inject({
      method: 'POST',
      url: `/v1/customers/${a.id}/merge`,
      headers: source.admin,
      payload: { source_customer_id: b.id },
    });
    expect(merge.statusCode).toBe(409);

    // As many identities as a customer may have, and an identity with more aliases than the
    // import used to take (100), added out of order.
    const full = await createCustomer(source.app, { email: 'full@example.com' });
    const first = await createIdentity(source.app, full.id, { channel: 'slack', external_id: 'U0' });
    for (let i = 1; i < 100; i++) await createIdentity(source.app, full.id, { channel: 'slack', external_id: `U${i}` });
    for (let i = 0; i < 120; i++) {
      const alias = `W${String((i * 37) % 120).padStart(3, '0')}`;
      const added = await source.app.inject({
        method: 'POST',
        url: `/v1/customers/${full.id}/identities/${first.id}/aliases`,
        headers: source.admin,
        payload: { external_id: alias },
      });
      expect(added.statusCode, added.body).toBe(201);
    }

    const exported = await exportFile(source, 'backup');

    const summary = await importFile(target.app.services, exported, { quiet: true });
    expect(summary.badLines).toEqual([]);
    expect(summary).toMatchObject({ customers: 3, identities: 100, skipped: 0 });
    const again = await exportFile(target, 'again');
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(exported, 'utf8'));
  });
});
