import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, kill, ROOT, sleep, startServer } from './support/child-server.js';

const ADMIN_KEY = 'crash-test-admin-key-0123456789';
const headers = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };

/** What a consistent database looks like, whatever was cut off: integrity, no orphans. */
function checkConsistency(file: string) {
  const db = new Database(file);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const orphanIdentities = db
      .prepare('select count(*) as n from identities where customer_id not in (select id from customers)')
      .get() as { n: number };
    const orphanCodes = db
      .prepare('select count(*) as n from claim_codes where identity_id not in (select id from identities)')
      .get() as { n: number };
    expect(orphanIdentities.n).toBe(0);
    expect(orphanCodes.n).toBe(0);
    return {
      customers: new Set((db.prepare('select id from customers').all() as { id: string }[]).map((r) => r.id)),
      identities: new Set((db.prepare('select id from identities').all() as { id: string }[]).map((r) => r.id)),
      identitiesPerCustomer: db
        .prepare(
          'select c.id as id, count(i.id) as n from customers c left join identities i on i.customer_id = c.id group by c.id',
        )
        .all() as { id: string; n: number }[],
    };
  } finally {
    db.close();
  }
}

describe('kill -9 in the middle of a stream of writes', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ids-crash-'));
    file = join(dir, 'identity.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged write, and the database consistent', async () => {
    const env = { DATABASE_URL: `sqlite:${file}`, BOOTSTRAP_API_KEY: ADMIN_KEY };
    const server = await startServer(env);
    const acknowledged = { customers: [] as string[], identities: [] as string[] };
    let stop = false;
    let next = 0;

    async function writer() {
      while (!stop) {
        const n = next++;
        try {
          const customer = await fetch(`${server.url}/v1/customers`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ email: `crash-${n}@example.com`, name: `Customer ${n}`, metadata: { n } }),
          });
          if (customer.status !== 201) throw new Error(`create customer: ${customer.status}`);
          const { id } = (await customer.json()) as { id: string };
          acknowledged.customers.push(id);
          const identity = await fetch(`${server.url}/v1/customers/${id}/identities`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ channel: 'telegram', external_id: String(n) }),
          });
          if (identity.status !== 201) throw new Error(`create identity: ${identity.status}`);
          const linked = (await identity.json()) as { id: string };
          acknowledged.identities.push(linked.id);
          const code = await fetch(`${server.url}/v1/customers/${id}/identities/${linked.id}/claim-code`, {
            method: 'POST',
            headers: { 'x-api-key': ADMIN_KEY },
          });
          await code.body?.cancel();
        } catch {
          return; // the server is gone
        }
      }
    }

    const writers = Array.from({ length: 8 }, () => writer());
    while (acknowledged.identities.length < 150) await sleep(20);
    await kill(server, 'SIGKILL');
    stop = true;
    await Promise.all(writers);

    const found = checkConsistency(file);
    for (const id of acknowledged.customers) expect(found.customers.has(id)).toBe(true);
    for (const id of acknowledged.identities) expect(found.identities.has(id)).toBe(true);

    // It starts again on the same file and serves what was written.
    const again = await startServer(env);
    try {
      for (const id of acknowledged.customers.slice(-5)) {
        const response = await fetch(`${again.url}/v1/customers/${id}`, { headers });
        expect(response.status).toBe(200);
      }
    } finally {
      await kill(again, 'SIGTERM');
    }
    // Logs: a request id on each request line, and the key never printed.
    const requestLines = server.output.filter((l) => l.includes('"msg":"request"'));
    expect(requestLines.length).toBeGreaterThan(100);
    for (const line of requestLines) expect(JSON.parse(line).reqId).toEqual(expect.any(String));
    expect(server.output.join('\n')).not.toContain(ADMIN_KEY);
  }, 90_000);
});

describe('kill -9 in the middle of an import', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ids-import-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves whole customers only, and a consistent database', async () => {
    const file = join(dir, 'identity.db');
    const source = join(dir, 'customers.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      lines.push(
        JSON.stringify({
          email: `import-${i}@example.com`,
          name: `Imported ${i}`,
          identities: [
            { channel: 'telegram', external_id: String(5_000_000 + i) },
            { channel: 'email', external_id: `import-${i}@example.com` },
          ],
        }),
      );
    }
    writeFileSync(source, `${lines.join('\n')}\n`);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'import', source, '--batch-size', '200'],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      },
    );
    const exited = once(child, 'exit');
    // Wait until some batches are in, then cut it off mid-way.
    let imported = 0;
    const deadline = Date.now() + 60_000;
    while (imported < 2_000 && Date.now() < deadline && child.exitCode === null) {
      await sleep(100);
      try {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        imported = (db.prepare('select count(*) as n from customers').get() as { n: number }).n;
        db.close();
      } catch {
        // not created, or not migrated yet
      }
    }
    expect(child.exitCode).toBeNull(); // still importing: the kill lands mid-way
    child.kill('SIGKILL');
    await exited;

    const found = checkConsistency(file);
    expect(found.customers.size).toBeGreaterThanOrEqual(2_000);
    expect(found.customers.size).toBeLessThan(60_000);
    // A customer goes in with all of its identities or not at all.
    for (const row of found.identitiesPerCustomer) expect(row.n).toBe(2);
  }, 120_000);
});

describe('graceful shutdown on SIGTERM', () => {
  let dir: string;
  let server: ChildServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-term-'));
    server = await startServer({ DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, BOOTSTRAP_API_KEY: ADMIN_KEY });
  }, 60_000);
  afterAll(async () => {
    await kill(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes the request in flight, refuses new ones, and exits 0', async () => {
    const port = Number(new URL(server.url).port);
    const body = JSON.stringify({ email: 'in-flight@example.com' });
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    // Headers and half the body: the request is in flight when the signal comes.
    socket.write(
      `POST /v1/customers HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    await sleep(300);
    server.child.kill('SIGTERM');
    await sleep(300);
    const refused = await fetch(`${server.url}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(refused).not.toBe(200);
    socket.write(body.slice(10));
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer).toContain('in-flight@example.com');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output.some((l) => l.includes('shutting down'))).toBe(true);
  }, 30_000);
});
