/**
 * Soak: mixed traffic against the real server for a while, watching errors and memory.
 *
 *   npm run soak -- [--duration 60] [--connections 64] [--max-growth-mb 64]
 *
 * Starts the server (compiled, as the benchmark runs it) as a child process on a fresh SQLite file, seeds customers, then drives
 * chains of lookups, creates, patches and claim generate+redeem through autocannon. Samples the
 * server's resident memory every 5 s. Exits 1 when any answer is an error (anything but 2xx,
 * 404 or 409, or a connection error or timeout) or when memory grew by more than the limit
 * between the end of the warm-up and the end of the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { rssMbOf, startServer } from '../bench/server-process.js';

const ADMIN_KEY = `soak-admin-${Date.now()}-0123456789`;
const SEEDED = 500;
const SAMPLE_EVERY_MS = 5_000;
/** Memory is compared from this sample on: the first seconds fill caches and JIT. */
const WARM_UP_SAMPLES = 2;
const EXPECTED = new Set([200, 201, 204, 404, 409]);

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '64' },
    'max-growth-mb': { type: 'string', default: '64' },
  },
});
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const maxGrowthMb = Number(flags['max-growth-mb']);
for (const [name, value] of Object.entries({ duration, connections, maxGrowthMb })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
}

async function call(url: string, method: string, path: string, key: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<Record<string, string>>;
}

interface Chain {
  customer?: string;
  identity?: string;
  externalId?: string;
  code?: string;
}

/** One chain per connection, over and over: what an operator and a runtime do together. */
function chainRequests(runtimeKey: string, seeded: { customer: string; externalId: string }[]): autocannon.Request[] {
  const runtime = { 'x-api-key': runtimeKey, 'content-type': 'application/json' };
  const admin = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
  const run = Date.now().toString(36);
  let n = 0;
  const pick = () => seeded[Math.floor(Math.random() * seeded.length)] as (typeof seeded)[number];
  const lookup = (externalId: string) => `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`;
  const json = (body: string) => JSON.parse(body) as Record<string, string>;
  return [
    {
      method: 'GET',
      headers: runtime,
      setupRequest: (req) => ({ ...req, path: lookup(pick().externalId) }),
    },
    {
      method: 'POST',
      path: '/v1/customers',
      headers: admin,
      setupRequest: (req, context) => {
        const chain = context as Chain;
        for (const key of Object.keys(chain)) delete chain[key as keyof Chain];
        return { ...req, body: JSON.stringify({ email: `soak-${run}-${n++}@example.com`, name: 'Soak' }) };
      },
      onResponse: (status, body, context) => {
        if (status === 201) (context as Chain).customer = json(body).id;
      },
    },
    {
      method: 'POST',
      headers: admin,
      setupRequest: (req, context) => {
        const chain = context as Chain;
        chain.externalId = String(9_000_000_000 + n++);
        const customer = chain.customer ?? pick().customer;
        return {
          ...req,
          path: `/v1/customers/${customer}/identities`,
          body: JSON.stringify({ channel: 'telegram', external_id: chain.externalId, metadata: { soak: true } }),
        };
      },
      onResponse: (status, body, context) => {
        if (status === 201) (context as Chain).identity = json(body).id;
      },
    },
    {
      method: 'PATCH',
      headers: admin,
      setupRequest: (req, context) => ({
        ...req,
        path: `/v1/customers/${(context as Chain).customer ?? pick().customer}`,
        body: JSON.stringify({ name: `Soak ${n++}`, metadata: { plan: 'pro', seats: n } }),
      }),
    },
    {
      method: 'POST',
      headers: admin,
      setupRequest: (req, context) => {
        const chain = context as Chain;
        const path = chain.identity
          ? `/v1/customers/${chain.customer}/identities/${chain.identity}/claim-code`
          : `/v1/customers/${pick().customer}/identities/${crypto.randomUUID()}/claim-code`;
        return { ...req, path };
      },
      onResponse: (status, body, context) => {
        if (status === 201) (context as Chain).code = json(body).code;
      },
    },
    {
      method: 'POST',
      path: '/v1/customers/identities/claim',
      headers: runtime,
      setupRequest: (req, context) => {
        const chain = context as Chain;
        // Without a code (an earlier step failed and was counted), look up instead of guessing.
        if (!chain.code || !chain.externalId) return { ...req, method: 'GET', path: lookup(pick().externalId) };
        return {
          ...req,
          body: JSON.stringify({ channel: 'telegram', external_id: chain.externalId, code: chain.code }),
        };
      },
    },
    {
      method: 'GET',
      headers: runtime,
      setupRequest: (req, context) => ({ ...req, path: lookup((context as Chain).externalId ?? pick().externalId) }),
    },
  ];
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ids-soak-'));
  const server = await startServer({
    DATABASE_URL: `sqlite:${join(dir, 'soak.db')}`,
    BOOTSTRAP_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
  });
  const pid = server.pid;
  let failed = false;
  try {
    const { key: runtimeKey } = await call(server.url, 'POST', '/v1/api-keys', ADMIN_KEY, {
      name: 'soak',
      scope: 'runtime',
    });
    if (!runtimeKey) throw new Error('no runtime key');
    const seeded: { customer: string; externalId: string }[] = [];
    for (let i = 0; i < SEEDED; i++) {
      const customer = await call(server.url, 'POST', '/v1/customers', ADMIN_KEY, { email: `seed-${i}@example.com` });
      const externalId = String(1_000_000 + i);
      await call(server.url, 'POST', `/v1/customers/${customer.id}/identities`, ADMIN_KEY, {
        channel: 'telegram',
        external_id: externalId,
      });
      seeded.push({ customer: customer.id as string, externalId });
    }
    process.stdout.write(
      `soak: ${duration} s at ${connections} connections against ${server.url} (pid ${pid}), ${SEEDED} customers seeded\n`,
    );

    const samples: { at: number; rssMb: number }[] = [];
    const started = Date.now();
    const sample = () => {
      const rss = rssMbOf(pid);
      if (rss !== undefined) {
        samples.push({ at: Math.round((Date.now() - started) / 1000), rssMb: rss });
        process.stdout.write(`  t=${String(samples.at(-1)?.at).padStart(3)} s  rss ${rss.toFixed(1)} MB\n`);
      }
    };
    sample();
    const timer = setInterval(sample, SAMPLE_EVERY_MS);
    const result = await autocannon({
      url: server.url,
      connections,
      duration,
      timeout: 10,
      requests: chainRequests(runtimeKey, seeded),
    });
    clearInterval(timer);
    sample();

    const statuses: Record<string, number> = {};
    let unexpected = 0;
    for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
      const count = stats?.count ?? 0;
      statuses[status] = count;
      if (!EXPECTED.has(Number(status))) unexpected += count;
    }
    const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
    const errors = result.errors + result.timeouts + unexpected;
    const baseline = samples[Math.min(WARM_UP_SAMPLES, samples.length - 1)]?.rssMb ?? 0;
    const final = Math.max(...samples.slice(-3).map((s) => s.rssMb));
    const growth = final - baseline;

    process.stdout.write(
      [
        `requests: ${answered} (${Math.round(answered / result.duration)}/s), latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
        `statuses: ${JSON.stringify(statuses)}`,
        `errors: ${errors} (connection errors ${result.errors}, timeouts ${result.timeouts}, unexpected statuses ${unexpected})`,
        `memory: ${baseline.toFixed(1)} MB after warm-up -> ${final.toFixed(1)} MB at the end (growth ${growth.toFixed(1)} MB, limit ${maxGrowthMb} MB)`,
        '',
      ].join('\n'),
    );
    if (errors > 0) {
      failed = true;
      process.stdout.write('FAIL: errors under load\n');
    }
    if (growth > maxGrowthMb) {
      failed = true;
      process.stdout.write('FAIL: memory grew beyond the limit\n');
    }
  } finally {
    const code = await server.stop();
    if (code !== 0) {
      failed = true;
      process.stdout.write(`FAIL: the server exited with ${code} on SIGTERM\n${server.stderr()}\n`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(failed ? 'soak: FAILED\n' : 'soak: passed\n');
  process.exitCode = failed ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed to run: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
