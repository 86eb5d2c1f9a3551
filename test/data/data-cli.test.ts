import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { runCli } from '../helpers/cli.js';
import { DIALECTS, type Dialect } from '../helpers/dialects.js';

const dir = mkdtempSync(join(tmpdir(), 'ids-data-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command line is another process: on SQLite the two share a file. */
async function sharedDatabase(dialect: Dialect) {
  if (dialect.name === 'postgres') return dialect.create();
  return { url: `sqlite:${join(dir, `${Date.now()}.db`)}`, dispose: async () => undefined };
}

describe.each(DIALECTS)('identity-service import / export on $name', (dialect) => {
  let url: string;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;

  const cli = (...args: string[]) => cliWith({}, ...args);
  const cliWith = (env: Record<string, string>, ...args: string[]) => runCli(args, { DATABASE_URL: url, ...env });

  beforeAll(async () => {
    const database = await sharedDatabase(dialect);
    url = database.url;
    dispose = database.dispose;
    app = await buildApp(loadConfig({ DATABASE_URL: url, BOOTSTRAP_API_KEY: ADMIN_KEY }), { logger: false });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  it('imports a file, names the skipped lines on stderr, exits 2, and the server sees the rest', async () => {
    const input = join(dir, `in-${dialect.name}.jsonl`);
    writeFileSync(
      input,
      [
        JSON.stringify({ email: 'cli1@example.com', identities: [{ channel: 'telegram', external_id: '4001' }] }),
        JSON.stringify({ email: 'not an email', identities: [] }),
        JSON.stringify({ email: 'cli2@example.com', identities: [{ channel: 'Slack', external_id: 'u4002' }] }),
      ].join('\n'),
    );
    const result = await cli('import', input);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^line 2: email: value is not a valid email address.*\(skipped\)$/m);
    expect(result.stdout).toMatch(/Imported 2 customers with 2 identities in .*; 1 skipped\./);

    const found = await app.inject({
      url: '/v1/customers/lookup/identity?channel=slack&external_id=U4002',
      headers: { 'x-api-key': ADMIN_KEY },
    });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ customer_email: 'cli2@example.com' });
  });

  it('export writes JSON Lines to --output or standard output, and they import back with nothing to add', async () => {
    const output = join(dir, `out-${dialect.name}.jsonl`);
    const written = await cli('export', '--output', output);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toMatch(/Exported 2 customers/);
    const text = readFileSync(output, 'utf8');
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).email),
    ).toEqual(['cli1@example.com', 'cli2@example.com']);
    expect((await cli('export')).stdout).toBe(text);

    // Into the same database, every line is already there: reported, and nothing changes.
    const again = await cli('import', output, '--json');
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout)).toMatchObject({ customers: 0, identities: 0, skipped: 2 });
    expect((await cli('export')).stdout).toBe(text);
  });

  it('reads phone numbers as the API does: without a country code, only in DEFAULT_PHONE_REGION', {
    timeout: 90_000,
  }, async () => {
    const input = join(dir, `phones-${dialect.name}.jsonl`);
    writeFileSync(
      input,
      `${JSON.stringify({ email: 'phones@example.com', identities: [{ channel: 'sms', external_id: '(310) 555-1234' }] })}\n`,
    );
    // No region: refused with how to write it, never stored as +31 5551234 (a digit gone).
    const refused = await cli('import', input);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(
      /^line 1: identities\.0\.external_id: .*with \+ and the country code.*\(skipped\)$/m,
    );

    const imported = await cliWith({ DEFAULT_PHONE_REGION: 'US' }, 'import', input);
    expect(imported.code, imported.stderr).toBe(0);
    const found = await app.inject({
      url: '/v1/customers/lookup/identity?channel=sms&external_id=%2B13105551234',
      headers: { 'x-api-key': ADMIN_KEY },
    });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ customer_email: 'phones@example.com', external_id: '+13105551234' });
  });
});
