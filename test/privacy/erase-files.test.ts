import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { DIALECTS, type Dialect } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

const run = promisify(execFile);
const admin = { 'x-api-key': ADMIN_KEY };

/** A database the command line (another process) and the server share: a file for SQLite. */
async function sharedDatabase(dialect: Dialect) {
  if (dialect.name === 'postgres') return { ...(await dialect.create()), path: undefined };
  const dir = mkdtempSync(join(tmpdir(), 'ids-erase-'));
  const path = join(dir, 'ids.db');
  return { url: `sqlite:${path}`, path, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
}

const telegramId = () => String(500_000_000 + Math.floor(Math.random() * 99_000_000));

describe.each(DIALECTS)('erasure against a running server on $name', (dialect) => {
  let database: Awaited<ReturnType<typeof sharedDatabase>>;
  let app: FastifyInstance;

  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
      timeout: 30_000,
    });
  const lookup = (externalId: string) =>
    app.inject({ url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`, headers: admin });

  beforeAll(async () => {
    database = await sharedDatabase(dialect);
    app = await buildApp(
      loadConfig({ DATABASE_URL: database.url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' }),
      {
        logger: false,
      },
    );
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it.runIf(dialect.name === 'sqlite')('leaves no byte of the email or the name in the database files', async () => {
    const tag = randomUUID();
    const email = `bytes-${tag}@example.com`;
    const name = `Name Of ${tag}`;
    const customer = await createCustomer(app, { email, name, metadata: { tag } });
    await createIdentity(app, customer.id, { channel: 'telegram', external_id: telegramId(), display_name: name });
    for (let i = 0; i < 5; i++) {
      const patched = await app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}`,
        headers: admin,
        payload: { metadata: { tag, round: i } },
      });
      expect(patched.statusCode).toBe(200);
    }
    const files = () =>
      [database.path as string, `${database.path}-wal`]
        .filter((file) => existsSync(file))
        .map((file) => readFileSync(file));
    const holds = (needle: string) => files().some((bytes) => bytes.includes(Buffer.from(needle)));
    // The test can see the bytes while they are there.
    expect(holds(email)).toBe(true);
    expect(holds(name)).toBe(true);

    const erased = await app.inject({
      method: 'POST',
      url: `/v1/customers/${customer.id}/erase`,
      headers: admin,
      payload: {},
    });
    expect(erased.statusCode).toBe(200);
    expect(holds(email)).toBe(false);
    expect(holds(name)).toBe(false);
    expect(holds(tag)).toBe(false);
  });

  it("the command line's erase is seen by the running server within a second", async () => {
    const externalId = telegramId();
    const customer = await createCustomer(app);
    await createIdentity(app, customer.id, { channel: 'telegram', external_id: externalId });
    // Cached by the server (a second lookup is a hit).
    expect((await lookup(externalId)).statusCode).toBe(200);
    expect((await lookup(externalId)).statusCode).toBe(200);

    const out = await cli('erase', customer.id, '--reason', 'asked by the person', '--json');
    const exited = performance.now();
    expect(JSON.parse(out.stdout)).toMatchObject({ customer_id: customer.id, suppressed: 0 });
    let status = 200;
    while (status === 200 && performance.now() - exited < 1_000) {
      status = (await lookup(externalId)).statusCode;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(404);
    expect((await app.inject({ url: `/v1/customers/${customer.id}`, headers: admin })).statusCode).toBe(404);
    const audit = await app.inject({
      url: `/v1/audit?action=customer.erased&customer_id=${customer.id}`,
      headers: admin,
    });
    expect(audit.json().items).toEqual([
      expect.objectContaining({ actor: 'cli', after: expect.objectContaining({ reason: 'asked by the person' }) }),
    ]);
  });

  it('export-customer prints the same document as the API, to stdout or to a file', async () => {
    const customer = await createCustomer(app, { name: 'Exported Person' });
    await createIdentity(app, customer.id, { channel: 'telegram', external_id: telegramId() });
    const printed = JSON.parse((await cli('export-customer', customer.id)).stdout);
    const api = (await app.inject({ url: `/v1/customers/${customer.id}/export`, headers: admin })).json();
    const { exported_at: _a, ...fromCli } = printed;
    const { exported_at: _b, ...fromApi } = api;
    expect(fromCli).toEqual(fromApi);
    expect(fromCli.customer.name).toBe('Exported Person');

    const dir = mkdtempSync(join(tmpdir(), 'ids-export-'));
    try {
      const file = join(dir, 'person.json');
      await cli('export-customer', customer.id, '--out', file);
      expect(JSON.parse(readFileSync(file, 'utf8')).customer.id).toBe(customer.id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(cli('export-customer', randomUUID())).rejects.toMatchObject({
      stderr: expect.stringContaining('Customer not found'),
    });
  });
});
