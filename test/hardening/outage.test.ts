import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, freePort, kill, sleep, startServer, waitFor } from './support/child-server.js';

/**
 * A private PostgreSQL cluster that this test starts, stops and starts again on its own port,
 * while the real server runs against it. Needs this machine's initdb and pg_ctl (PG_BIN, else
 * pg_config's, else Debian's /usr/lib/postgresql/<version>/bin); CI has them, and when TEST_DATABASE_URL is set (CI) their
 * absence is a failure rather than a skip.
 */
function findPgBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  try {
    return execFileSync('pg_config', ['--bindir']).toString().trim();
  } catch {
    // no pg_config: Debian's layout, newest version first
  }
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
    : [];
  const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((bin) => existsSync(join(bin, 'initdb')));
  return found ?? '/usr/lib/postgresql/15/bin';
}
const PG_BIN = findPgBin();
const available = existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_ctl'));
if (!available && process.env.TEST_DATABASE_URL) {
  throw new Error(`outage test: TEST_DATABASE_URL is set but ${PG_BIN}/initdb and pg_ctl are missing (set PG_BIN)`);
}

const ADMIN_KEY = 'outage-test-admin-key-0123456789';
const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL tool, as the postgres user when we are root (PostgreSQL refuses to run as root). */
function pg(tool: string, args: string[]) {
  const command = join(PG_BIN, tool);
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return execFileSync(file, argv, { stdio: 'pipe', timeout: 60_000 }).toString();
}

describe.runIf(available)('PostgreSQL outage while serving', () => {
  let dir: string;
  let data: string;
  let port: number;
  let server: ChildServer | undefined;
  const startCluster = () =>
    pg('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      '-w',
      'start',
    ]);
  const stopCluster = (mode: 'fast' | 'immediate' = 'fast') => pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-outage-'));
    data = join(dir, 'data');
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
    }
    chmodSync(dir, 0o700);
    port = await freePort();
    pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    startCluster();
  }, 120_000);

  afterAll(async () => {
    if (server) await kill(server);
    try {
      stopCluster('immediate');
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 in the contract shape while the database is down, and recovers by itself', async () => {
    server = await startServer({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
    });
    const url = server.url;
    const headers = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
    const create = (email: string) =>
      fetch(`${url}/v1/customers`, { method: 'POST', headers, body: JSON.stringify({ email }) });
    const customer = (await (await create('before@example.com')).json()) as { id: string };
    const linked = await fetch(`${url}/v1/customers/${customer.id}/identities`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ channel: 'telegram', external_id: '424242' }),
    });
    expect(linked.status).toBe(201);

    stopCluster('fast');

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ detail: expect.any(String) });
    const attempts = [
      () => fetch(`${url}/v1/customers`, { headers }),
      () => create('during@example.com'),
      () => fetch(`${url}/v1/customers/${customer.id}`, { headers }),
      () => fetch(`${url}/v1/customers/lookup/identity?channel=telegram&external_id=999`, { headers }),
      // An unknown key needs the database to be told apart from a valid one: 503, not 401.
      () => fetch(`${url}/v1/customers`, { headers: { 'x-api-key': 'not-a-key-we-know' } }),
    ];
    for (const attempt of attempts) {
      const response = await attempt();
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBeTruthy();
      const body = (await response.json()) as { detail: unknown };
      expect(Object.keys(body)).toEqual(['detail']);
      expect(typeof body.detail).toBe('string');
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200); // alive, not ready
    expect(server.child.exitCode).toBeNull();

    // Down for a while: repeated failures must not crash or wedge it either.
    for (let i = 0; i < 20; i++) expect((await fetch(`${url}/v1/customers`, { headers })).status).toBe(503);
    await sleep(500);

    startCluster();
    await waitFor(`${url}/readyz`, 200, 30_000);
    const lookup = await fetch(`${url}/v1/customers/lookup/identity?channel=telegram&external_id=424242`, {
      headers,
    });
    expect(lookup.status).toBe(200);
    expect(((await lookup.json()) as { customer_id: string }).customer_id).toBe(customer.id);
    expect((await create('after@example.com')).status).toBe(201);
    expect((await fetch(`${url}/v1/customers`, { headers })).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
    expect(server.output.join('\n')).not.toMatch(/uncaught|unhandled/i);
  }, 120_000);
});
