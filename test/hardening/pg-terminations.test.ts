import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres, postgresUrl } from '../helpers/dialects.js';
import { type ChildServer, kill, sleep, startServer, waitFor } from './support/child-server.js';

const ADMIN_KEY = 'terminations-test-admin-key-0123456789';
const headers = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };

/**
 * PostgreSQL going away under load (a restart, a failover, an administrator's
 * pg_terminate_backend): every connection the server holds is cut, some in the middle of a
 * transaction, some between two statements of one, some idle in the pool, the LISTEN one, the
 * lookups' own. The shared server is never restarted here: the backends of this test's own
 * database are terminated instead, which cuts the connections the same way.
 */
describe.runIf(postgresUrl)('PostgreSQL connections cut under load', () => {
  let database: { url: string; dispose(): Promise<void> };
  let server: ChildServer | undefined;
  let admin: pg.Client;

  beforeAll(async () => {
    database = await postgres.create();
    admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
  });
  afterAll(async () => {
    if (server) await kill(server);
    await admin.end();
    await database.dispose();
  });

  const terminateAll = async () => {
    const name = new URL(database.url).pathname.slice(1);
    const { rows } = await admin.query<{ n: string }>(
      'select count(pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    return Number(rows[0]?.n ?? 0);
  };

  it('keeps the process alive, loses nothing acknowledged, and writes again within seconds', async () => {
    server = await startServer({
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      // Misses every time: each lookup reads the database.
      LOOKUP_CACHE_MAX: '0',
    });
    const { url } = server;
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

    const acknowledged: { id: string; email: string; externalId: string }[] = [];
    let stop = false;
    let n = 0;
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

    // Each customer is one transaction with its audit event; each identity another; a merge locks
    // two customers and moves rows between them: statements with JavaScript in between.
    async function writer() {
      while (!stop) {
        const i = n++;
        try {
          const created = await post('/v1/customers', { email: `cut-${i}@example.com`, metadata: { i } });
          count(created.status);
          if (created.status !== 201) continue;
          const { id } = (await created.json()) as { id: string };
          const linked = await post(`/v1/customers/${id}/identities`, { channel: 'telegram', external_id: `7${i}` });
          count(linked.status);
          // Acknowledged only once both writes were.
          if (linked.status === 201) acknowledged.push({ id, email: `cut-${i}@example.com`, externalId: `7${i}` });
        } catch {
          // A connection refused or reset here would mean the process died: checked below.
        }
      }
    }
    async function merger() {
      while (!stop) {
        try {
          const a = await post('/v1/customers', { email: `merge-a-${n++}@example.com` });
          const b = await post('/v1/customers', { email: `merge-b-${n++}@example.com` });
          if (a.status !== 201 || b.status !== 201) continue;
          const [target, source] = [(await a.json()) as { id: string }, (await b.json()) as { id: string }];
          count((await post(`/v1/customers/${target.id}/merge`, { source_customer_id: source.id })).status);
        } catch {
          // see writer
        }
      }
    }
    async function looker() {
      while (!stop) {
        try {
          const known = acknowledged[Math.floor(Math.random() * acknowledged.length)];
          const externalId = known?.externalId ?? '1';
          const response = await fetch(
            `${url}/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
            { headers: { 'x-api-key': ADMIN_KEY } },
          );
          count(response.status);
          await response.body?.cancel();
        } catch {
          // see writer
        }
      }
    }
    const workers = [writer(), writer(), writer(), merger(), merger(), looker(), looker(), looker()];

    let terminated = 0;
    for (let round = 0; round < 25; round++) {
      await sleep(200 + Math.random() * 200);
      terminated += await terminateAll();
      expect(server.child.exitCode, server.output.slice(-30).join('\n')).toBeNull();
    }
    stop = true;
    await Promise.all(workers);
    expect(terminated).toBeGreaterThan(25);
    expect(server.child.exitCode, server.output.slice(-30).join('\n')).toBeNull();
    expect(server.child.signalCode).toBeNull();

    // Writes work again within seconds of the last cut.
    const back = Date.now();
    let created: Response | undefined;
    while (Date.now() - back < 5_000) {
      created = await post('/v1/customers', { email: `after-${Date.now()}@example.com` });
      if (created.status === 201) break;
      await sleep(100);
    }
    expect(created?.status).toBe(201);
    expect(Date.now() - back).toBeLessThan(5_000);
    // And the LISTEN connection is back: ready again.
    await waitFor(`${url}/readyz`, 200, 10_000);

    // Only the database's own answers while it was cut: 503s, never 500s.
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(statuses.get(201) ?? 0).toBeGreaterThan(10);

    // Nothing acknowledged was lost.
    expect(acknowledged.length).toBeGreaterThan(3);
    for (const { id, externalId } of acknowledged) {
      const lookup = await fetch(`${url}/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`, {
        headers: { 'x-api-key': ADMIN_KEY },
      });
      expect(lookup.status).toBe(200);
      expect(((await lookup.json()) as { customer_id: string }).customer_id).toBe(id);
    }
    expect(server.output.join('\n')).not.toMatch(/uncaught|unhandled/i);
  }, 120_000);
});
