import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres, postgresUrl } from '../helpers/dialects.js';
import { type ChildServer, kill, startServer } from './support/child-server.js';

const ADMIN_KEY = 'lock-timeouts-test-admin-key-0123456789';
const headers = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
const LOOKUP_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 2000;
/** What the answer may take beyond the database's bound: a round trip, a loaded machine. */
const SLACK_MS = 1500;

/** The value of one sample in Prometheus' text format (0 when absent). */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/**
 * Another session (a migration, a VACUUM FULL, a transaction left open) holds a lock on
 * `identities`: the service answers 503 with Retry-After at its own bound rather than waiting
 * with it, counts it, and works again once the lock is released. PostgreSQL only: SQLite's
 * lookups never wait for a lock (WAL), and its writes have SQLITE_WRITE_WAIT_MS (sqlite-lock.test.ts).
 */
describe.runIf(postgresUrl)('a lock held by another session', () => {
  let database: { url: string; dispose(): Promise<void> };
  let server: ChildServer | undefined;
  let holder: pg.Client;

  beforeAll(async () => {
    database = await postgres.create();
    server = await startServer({
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      DB_LOOKUP_TIMEOUT_MS: String(LOOKUP_TIMEOUT_MS),
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
    holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
  });
  afterAll(async () => {
    if (server) await kill(server);
    await holder.end();
    await database.dispose();
  });

  const timed = async (request: () => Promise<Response>) => {
    const started = performance.now();
    const response = await request();
    return { response, ms: performance.now() - started, body: await response.text() };
  };

  it('answers 503 with Retry-After within its bound, counts it, and works again after', async () => {
    const url = (server as ChildServer).url;
    const lookup = (externalId: string) =>
      fetch(`${url}/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`, {
        headers: { 'x-api-key': ADMIN_KEY },
        signal: AbortSignal.timeout(30_000),
      });
    const link = (customerId: string, externalId: string) =>
      fetch(`${url}/v1/customers/${customerId}/identities`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ channel: 'telegram', external_id: externalId }),
        signal: AbortSignal.timeout(30_000),
      });
    const created = await fetch(`${url}/v1/customers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ email: 'locked@example.com' }),
    });
    const customer = (await created.json()) as { id: string };
    expect((await link(customer.id, '100')).status).toBe(201);
    // Known to this process by now (the fast path answers for known keys).
    expect((await lookup('100')).status).toBe(200);
    const before = await (await fetch(`${url}/metrics`)).text();

    await holder.query('begin');
    await holder.query('lock table identities in access exclusive mode');
    try {
      // Not cached: both the fast path's read and a second key's read meet the lock.
      for (const externalId of ['101', '102']) {
        const missed = await timed(() => lookup(externalId));
        expect(missed.response.status, missed.body).toBe(503);
        expect(Number(missed.response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(JSON.parse(missed.body)).toEqual({ detail: expect.stringMatching(/lock/) });
        expect(missed.ms).toBeGreaterThanOrEqual(LOOKUP_TIMEOUT_MS * 0.9 - 50);
        expect(missed.ms).toBeLessThan(LOOKUP_TIMEOUT_MS + SLACK_MS);
      }
      const write = await timed(() => link(customer.id, '103'));
      expect(write.response.status, write.body).toBe(503);
      expect(Number(write.response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(write.ms).toBeLessThan(STATEMENT_TIMEOUT_MS + SLACK_MS);
      // A cached lookup goes on answering.
      expect((await lookup('100')).status).toBe(200);
      // Every replica shares the lock: taking them all out of rotation would stop cached lookups too.
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      const during = await (await fetch(`${url}/metrics`)).text();
      expect(
        sample(during, 'db_timeouts_total', 'kind="lock"') - sample(before, 'db_timeouts_total', 'kind="lock"'),
      ).toBe(3);
    } finally {
      await holder.query('rollback');
    }

    expect((await link(customer.id, '103')).status).toBe(201);
    const found = await lookup('103');
    expect(found.status).toBe(200);
    expect(((await found.json()) as { customer_id: string }).customer_id).toBe(customer.id);
    expect((await lookup('101')).status).toBe(404);
    expect((server as ChildServer).output.join('\n')).toMatch(/canceling statement due to lock timeout/);
  }, 60_000);
});
