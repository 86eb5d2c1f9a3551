import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { DIALECTS, type Dialect } from '../helpers/dialects.js';

const run = promisify(execFile);

/** A database the command line (another process) and the app share: a file for SQLite. */
async function sharedDatabase(dialect: Dialect) {
  if (dialect.name === 'postgres') return dialect.create();
  const dir = mkdtempSync(join(tmpdir(), 'ids-cli-'));
  return {
    url: `sqlite:${join(dir, 'cli.db')}`,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe.each(DIALECTS)('the command line on $name', (dialect) => {
  let url: string;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;

  /** Runs `identity-service ...args` from the sources, as `npx identity-service` would. */
  const cli = (...args: string[]) => cliWith({}, ...args);
  const cliWith = (env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent', ...env },
      timeout: 30_000,
    });

  beforeAll(async () => {
    const database = await sharedDatabase(dialect);
    url = database.url;
    dispose = database.dispose;
    // The CLI runs first on a fresh database: it migrates it.
    await cli('migrate');
    app = await buildApp(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }), { logger: false });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  it('keys create prints a key that works against the server; keys revoke stops it', async () => {
    const created = await cli('keys', 'create', '--name', 'dashboard', '--scope', 'admin');
    const key = /\b(idsk_[A-Za-z0-9_-]+)/.exec(created.stdout)?.[1];
    expect(key, created.stdout).toBeDefined();
    const id = /id ([0-9a-f-]{36})/.exec(created.stdout)?.[1] as string;
    expect(id).toBeDefined();

    const headers = { 'x-api-key': key as string };
    const made = await app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers,
      payload: { email: 'cli@example.com' },
    });
    expect(made.statusCode).toBe(201);

    const listed = await cli('keys', 'list', '--json');
    const keys = JSON.parse(listed.stdout) as { id: string; name: string; scope: string }[];
    expect(keys).toContainEqual(expect.objectContaining({ id, name: 'dashboard', scope: 'admin' }));
    expect(listed.stdout).not.toContain(key);
    const table = await cli('keys', 'list');
    expect(table.stdout).toContain(id);
    expect(table.stdout).not.toContain(key);

    const revoked = await cli('keys', 'revoke', id);
    expect(revoked.stdout).toContain(id);
    const after = await app.inject({ url: '/v1/customers', headers });
    expect(after.statusCode).toBe(401);
    const gone = JSON.parse((await cli('keys', 'list', '--json')).stdout) as { id: string }[];
    expect(gone.map((k) => k.id)).not.toContain(id);
  });

  // Eight commands, each a process of its own.
  it('no command undoes the revocation of the BOOTSTRAP_API_KEY; keys restore does, audited', {
    timeout: 120_000,
  }, async () => {
    const bootstrapKey = `bootstrap-${randomUUID()}`;
    const env = { BOOTSTRAP_API_KEY: bootstrapKey };
    const headers = { 'x-api-key': bootstrapKey };
    // A command with BOOTSTRAP_API_KEY set creates the key, as the server's start does.
    await cliWith(env, 'migrate');
    expect((await app.inject({ url: '/v1/customers', headers })).statusCode).toBe(200);
    const listed = JSON.parse((await cli('keys', 'list', '--json')).stdout) as { id: string; name: string }[];
    const id = listed.find((k) => k.name === 'bootstrap')?.id as string;
    expect(id).toBeDefined();

    await cli('keys', 'revoke', id);
    expect((await app.inject({ url: '/v1/customers', headers })).statusCode).toBe(401);
    // Every later command still runs, leaves the key revoked, and says how to bring it back.
    const list = await cliWith(env, 'keys', 'list', '--json');
    expect(list.stderr).toMatch(/BOOTSTRAP_API_KEY names a revoked key/);
    expect(list.stderr).toContain(id);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((k) => k.id)).not.toContain(id);

    const restored = await cli('keys', 'restore', id);
    expect(restored.stdout).toContain(id);
    expect((await app.inject({ url: '/v1/customers', headers })).statusCode).toBe(200);
    const audit = await app.inject({ url: '/v1/audit?limit=200', headers });
    const actions = audit.json<{ items: { action: string; actor: string }[] }>().items;
    expect(actions).toContainEqual(expect.objectContaining({ action: 'api_key.restored', actor: 'cli' }));
    // Restoring what is not revoked, or what does not exist, fails and says why.
    await expect(cli('keys', 'restore', id)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not revoked'),
    });
    await expect(cli('keys', 'restore', '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not found'),
    });
  });

  it('keys create --json and a runtime scope', async () => {
    const { stdout } = await cli('keys', 'create', '--name', 'bot', '--scope', 'runtime', '--json');
    const created = JSON.parse(stdout) as { key: string; scope: string; prefix: string };
    expect(created.scope).toBe('runtime');
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const headers = { 'x-api-key': created.key };
    expect((await app.inject({ url: '/v1/customers', headers })).statusCode).toBe(200);
    const write = await app.inject({ method: 'POST', url: '/v1/customers', headers, payload: { email: 'x@y.co' } });
    expect(write.statusCode).toBe(403);
  });

  it('refuses a bad scope and an unknown key id with an error and a failing exit code', async () => {
    await expect(cli('keys', 'create', '--name', 'x', '--scope', 'root')).rejects.toMatchObject({ code: 1 });
    await expect(cli('keys', 'revoke', '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not found'),
    });
  });
});
