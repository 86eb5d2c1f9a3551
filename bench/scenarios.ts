import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { ScenarioName } from './args.js';
import { pacedRun } from './paced.js';
import { seededKey, TELEGRAM_MISS_BASE } from './seed.js';
import { rssMbOf } from './server-process.js';

export interface ScenarioResult {
  name: ScenarioName;
  /** HTTP requests per second (the claim scenario makes two per chain). */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Connection errors, timeouts and responses with an unexpected status. */
  errors: number;
  statuses: Record<string, number>;
  /** CPU seconds per second of the run: the server's (from /proc) and the load generator's (this process). */
  serverCpu: number | null;
  /**
   * The server's CPU time per answered request, in µs (utime + stime from /proc/PID/stat around
   * each turn, over the requests of those turns): steadier than requests/s on a shared machine,
   * since time the server waits for a core is not counted. Absent from reports of before 4 December.
   */
  serverCpuMicrosPerRequest?: number | null;
  clientCpu: number;
  /** Lookups answered from the server's cache during the run, in % (from its /metrics); null when it made none or has no such metric. */
  cacheHitPercent: number | null;
  /** The server's highest resident memory during the run, in MB (sampled every 200 ms). */
  serverRssPeakMb: number | null;
  /** Turns it was measured in (see `runInTurns`); 1 when measured in one go. */
  turns: number;
}

/** An identity that no code has been issued for yet: the claim scenario spends one per chain. */
export interface Claimable {
  customerId: string;
  identityId: string;
  channel: string;
  externalId: string;
}

export interface ScenarioContext {
  url: string;
  durationSeconds: number;
  connections: number;
  runtimeKey: string;
  adminKey: string;
  identities: number;
  /** Seeded identities 0 … warmed − 1 were looked up before the round (see warmUp); all by default. */
  warmed?: number | undefined;
  /** The server process, whose CPU time is read from /proc. */
  serverPid: number;
  customerIds: string[];
  /** Filled by the create scenario and the seed; drained by the claim scenario. */
  claimable: Claimable[];
  /** Requests/s that lookup_hit_paced asks for (half of what lookup_hit made flat out in the same round). */
  pacedRate?: number | undefined;
}

type Request = autocannon.Request;

/**
 * lookup_hit_hot asks for this many seeded identities only, the last the warm-up cached:
 * at a million identities, the figure the spread lookups are compared with (issue 21's 20k hot keys).
 */
export const HOT_KEYS = 20_000;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const lookupPath = (channel: string, externalId: string) =>
  `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}`;

/**
 * Seeded identity numbers drawn as real traffic asks for people: a few often, most rarely. Ranks
 * follow Zipf's law with exponent 1 (rank r is asked for in proportion to 1/r), and rank r is
 * identity (r × step + 12,345) mod n, step being 7,919,993 or the next number coprime with n: a
 * fixed shuffle, so that the people asked for most are spread over the whole set rather than
 * being the first ones, which the warm-up looked up.
 */
function zipfDraw(n: number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1);
    cumulative[r] = sum;
  }
  let step = 7_919_993;
  while (gcd(step, n) !== 1) step++;
  return () => {
    const target = Math.random() * sum;
    let [low, high] = [0, n - 1];
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((cumulative[mid] as number) < target) low = mid + 1;
      else high = mid;
    }
    return (low * step + 12_345) % n;
  };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The last HOT_KEYS identities the warm-up looked up: the most recently used entries of the
 * cache, which lookups spread over every key (whose misses each push one entry out) evict last.
 * The first ones warmed would be the first evicted (they measured 66 % hits, 4 December).
 */
function hotDraw(ctx: ScenarioContext): () => number {
  const warmed = Math.min(ctx.warmed ?? ctx.identities, ctx.identities);
  const hot = Math.min(HOT_KEYS, warmed);
  return () => warmed - hot + Math.random() * hot;
}

/** What each scenario sends, and which statuses count as answers rather than errors. */
function scenario(name: ScenarioName, ctx: ScenarioContext): { requests: Request[]; ok: number[] } {
  const runtime = { 'x-api-key': ctx.runtimeKey };
  const admin = { 'x-api-key': ctx.adminKey, 'content-type': 'application/json' };
  switch (name) {
    case 'healthz':
      return { requests: [{ method: 'GET', path: '/healthz' }], ok: [200] };
    case 'lookup_hit':
    case 'lookup_hit_hot':
    case 'lookup_hit_serial':
    case 'lookup_hit_paced':
    case 'lookup_hit_skewed': {
      const draw =
        name === 'lookup_hit_skewed'
          ? zipfDraw(ctx.identities)
          : name === 'lookup_hit_hot'
            ? hotDraw(ctx)
            : () => Math.random() * ctx.identities;
      return {
        requests: [
          {
            method: 'GET',
            headers: runtime,
            setupRequest: (req) => {
              const key = seededKey(Math.floor(draw()));
              return { ...req, path: lookupPath(key.channel, key.externalId) };
            },
          },
        ],
        ok: [200],
      };
    }
    case 'lookup_miss':
      return {
        requests: [
          {
            method: 'GET',
            headers: runtime,
            setupRequest: (req) => ({
              ...req,
              path: lookupPath('telegram', String(TELEGRAM_MISS_BASE + Math.floor(Math.random() * 50_000_000))),
            }),
          },
        ],
        ok: [404],
      };
    case 'create_identity': {
      let n = 0;
      const run = Date.now().toString(36);
      return {
        requests: [
          {
            method: 'POST',
            headers: admin,
            setupRequest: (req) => {
              const customerId = pick(ctx.customerIds);
              return {
                ...req,
                path: `/v1/customers/${customerId}/identities`,
                body: JSON.stringify({ channel: 'bench', external_id: `b-${run}-${n++}`, display_name: 'bench' }),
              };
            },
            onResponse: (status, body) => {
              if (status !== 201) return;
              const made = JSON.parse(body) as {
                id: string;
                customer_id: string;
                channel: string;
                external_id: string;
              };
              ctx.claimable.push({
                customerId: made.customer_id,
                identityId: made.id,
                channel: made.channel,
                externalId: made.external_id,
              });
            },
          },
        ],
        ok: [201],
      };
    }
    case 'create_link_request': {
      let n = 0;
      const run = Date.now().toString(36);
      return {
        requests: [
          {
            method: 'POST',
            path: '/v1/link-requests',
            headers: { ...runtime, 'content-type': 'application/json' },
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ channel: 'benchlink', external_id: `l-${run}-${n++}`, display_name: 'bench' }),
            }),
          },
        ],
        ok: [201],
      };
    }
    case 'claim': {
      interface Chain {
        target?: Claimable;
        code?: string;
      }
      return {
        requests: [
          {
            method: 'POST',
            headers: admin,
            setupRequest: (req, context) => {
              const chain = context as Chain;
              chain.target = ctx.claimable.pop();
              chain.code = undefined;
              // None left: ask for a code for an identity that does not exist, which shows as 404s.
              const target = chain.target ?? { customerId: pick(ctx.customerIds), identityId: crypto.randomUUID() };
              return { ...req, path: `/v1/customers/${target.customerId}/identities/${target.identityId}/claim-code` };
            },
            onResponse: (status, body, context) => {
              if (status === 201) (context as Chain).code = (JSON.parse(body) as { code: string }).code;
            },
          },
          {
            method: 'POST',
            path: '/v1/customers/identities/claim',
            headers: runtime,
            setupRequest: (req, context) => {
              const { target, code } = context as Chain;
              if (!target || !code) return { ...req, body: '{}' };
              return {
                ...req,
                headers: { ...runtime, 'content-type': 'application/json' },
                body: JSON.stringify({ channel: target.channel, external_id: target.externalId, code }),
              };
            },
          },
        ],
        ok: [200, 201],
      };
    }
  }
}

/**
 * Before measuring: looks up seeded keys 0, 1, 2, … once each, `count` of them (as many as the
 * cache holds), so that the lookup scenarios measure the steady state of a server that has been
 * answering for a while rather than its first minute. Beyond the cache's size (a million
 * identities, 100,000 entries by default), lookups still go to the database, as they would.
 */
export async function warmUp(ctx: ScenarioContext, count: number): Promise<void> {
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    autocannon(
      {
        url: ctx.url,
        connections: ctx.connections,
        amount: Math.max(count, ctx.connections),
        timeout: 10,
        requests: [
          {
            method: 'GET',
            headers: { 'x-api-key': ctx.runtimeKey },
            setupRequest: (req) => {
              const key = seededKey(next++ % ctx.identities);
              return { ...req, path: lookupPath(key.channel, key.externalId) };
            },
          },
        ],
      },
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

/** One autocannon run of a scenario, as measured, before it is summed up with others. */
interface Measurement {
  /** Statuses that count as answers rather than errors. */
  ok: number[];
  seconds: number;
  times: number[];
  statuses: Record<string, number>;
  /** Connection errors and timeouts (statuses not counted as answers are added in `summarize`). */
  errors: number;
  serverCpuSeconds: number | null;
  clientCpuSeconds: number;
  cacheHits: number;
  cacheMisses: number;
  serverRssPeakMb: number | null;
}

async function measure(name: ScenarioName, ctx: ScenarioContext, seconds: number): Promise<Measurement> {
  const { requests, ok } = scenario(name, ctx);
  // Serial: one connection, one request after another, so that the percentiles show how long a
  // lookup takes rather than how long it queued behind 31 others at saturation (32 connections
  // at 10,000 requests/s wait 3.2 ms on average, by Little's law, whatever the server does).
  const connections = name === 'lookup_hit_serial' ? 1 : ctx.connections;
  const cacheBefore = await cacheCounts(ctx.url);
  const client = process.cpuUsage();
  const server = cpuSecondsOf(ctx.serverPid);
  let rssPeak = rssMbOf(ctx.serverPid);
  const sampler = setInterval(() => {
    const rss = rssMbOf(ctx.serverPid);
    if (rss !== undefined) rssPeak = Math.max(rssPeak ?? 0, rss);
  }, 200);
  const result = await (name === 'lookup_hit_paced'
    ? paced(requests, ctx, seconds)
    : flatOut(requests, ctx.url, connections, seconds)
  ).finally(() => clearInterval(sampler));
  const used = process.cpuUsage(client);
  const serverAfter = cpuSecondsOf(ctx.serverPid);
  const cacheAfter = await cacheCounts(ctx.url);
  return {
    ok,
    seconds: result.seconds,
    times: result.times,
    statuses: result.statuses,
    errors: result.errors,
    serverCpuSeconds: server === undefined || serverAfter === undefined ? null : serverAfter - server,
    clientCpuSeconds: (used.user + used.system) / 1e6,
    cacheHits: cacheAfter && cacheBefore ? cacheAfter.hit - cacheBefore.hit : 0,
    cacheMisses: cacheAfter && cacheBefore ? cacheAfter.miss - cacheBefore.miss : 0,
    serverRssPeakMb: rssPeak ?? null,
  };
}

type Run = Pick<Measurement, 'seconds' | 'times' | 'statuses' | 'errors'>;

/** autocannon, flat out: each connection sends its next request as soon as the last is answered. */
async function flatOut(requests: Request[], url: string, connections: number, seconds: number): Promise<Run> {
  // autocannon's own histogram counts whole milliseconds; the targets are about fractions of one,
  // so every response time (in ms, from hrtime) is kept here, a few MB for a run.
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, requests, timeout: 10 }, (error, done) =>
      error ? reject(error) : resolve(done),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      times.push(responseTime);
    });
  });
  const statuses: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) statuses[status] = stats?.count ?? 0;
  return { seconds: result.duration, times, statuses, errors: result.errors };
}

/** The lookups of `requests` at ctx.pacedRate, steadily (see paced.ts). */
async function paced(requests: Request[], ctx: ScenarioContext, seconds: number): Promise<Run> {
  const [request] = requests;
  const setup = request?.setupRequest;
  if (!request || typeof setup !== 'function' || !ctx.pacedRate) {
    throw new Error('lookup_hit_paced needs the rate of lookup_hit first');
  }
  return pacedRun({
    url: ctx.url,
    connections: ctx.connections,
    rate: ctx.pacedRate,
    seconds,
    headers: (request.headers ?? {}) as Record<string, string>,
    nextPath: () => (setup(request, {}) as { path: string }).path,
  });
}

/** One scenario's figures from its measurements (one, or the turns of `runInTurns`). */
function summarize(name: ScenarioName, parts: Measurement[]): ScenarioResult {
  const ok = parts[0]?.ok ?? [];
  const seconds = parts.reduce((sum, m) => sum + m.seconds, 0);
  const sorted = Float64Array.from(parts.flatMap((m) => m.times)).sort();
  const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const statuses: Record<string, number> = {};
  for (const part of parts) {
    for (const [status, count] of Object.entries(part.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
  }
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  const unexpected = Object.entries(statuses)
    .filter(([status]) => !ok.includes(Number(status)))
    .reduce((sum, [, count]) => sum + count, 0);
  const hits = parts.reduce((sum, m) => sum + m.cacheHits, 0);
  const misses = parts.reduce((sum, m) => sum + m.cacheMisses, 0);
  const serverCpuSeconds = parts.every((m) => m.serverCpuSeconds !== null)
    ? parts.reduce((sum, m) => sum + (m.serverCpuSeconds as number), 0)
    : null;
  const serverCpu = serverCpuSeconds === null ? null : serverCpuSeconds / seconds;
  const rssPeaks = parts.map((m) => m.serverRssPeakMb).filter((rss) => rss !== null);
  return {
    name,
    requestsPerSecond: answered / seconds,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    requests: answered,
    errors: parts.reduce((sum, m) => sum + m.errors, 0) + unexpected,
    statuses,
    serverCpu,
    serverCpuMicrosPerRequest: serverCpuSeconds === null || answered === 0 ? null : (serverCpuSeconds * 1e6) / answered,
    clientCpu: parts.reduce((sum, m) => sum + m.clientCpuSeconds, 0) / seconds,
    cacheHitPercent: hits + misses > 0 ? (100 * hits) / (hits + misses) : null,
    serverRssPeakMb: rssPeaks.length > 0 ? Math.max(...rssPeaks) : null,
    turns: parts.length,
  };
}

export async function runScenario(name: ScenarioName, ctx: ScenarioContext): Promise<ScenarioResult> {
  return summarize(name, [await measure(name, ctx, ctx.durationSeconds)]);
}

/** Seconds of each turn in `runInTurns` (about; a run's duration is cut into equal turns). */
const TURN_SECONDS = 2;

/** A scenario to measure on a server: ours (the usual ctx), or FastAPI's with a ctx of its own. */
export interface TurnTaker {
  name: ScenarioName;
  ctx: ScenarioContext;
}

/**
 * Scenarios measured in turns (a, b, a, b, …, each turn about TURN_SECONDS, at least two turns
 * each, `seconds` in all for each), so that a slow or fast spell of a shared machine falls on all
 * of them alike. For the ratio of two scenarios (lookups to the ceiling): measured one after the
 * other for 10 s each, that ratio moved between 46 % and 116 % from round to round on this
 * machine; in turns of 2 s, between 71 % and 85 % (2 December). The takers may be on different
 * servers (our lookups and FastAPI's), each with its own ctx; results come in the takers' order.
 */
export async function runInTurns(takers: TurnTaker[], seconds: number): Promise<ScenarioResult[]> {
  const turns = Math.max(2, Math.round(seconds / TURN_SECONDS));
  const runs = takers.map((taker) => ({ ...taker, parts: [] as Measurement[] }));
  for (let turn = 0; turn < turns; turn++) {
    for (const run of runs) run.parts.push(await measure(run.name, run.ctx, seconds / turns));
  }
  return runs.map((run) => summarize(run.name, run.parts));
}

/** Our server's answer to a lookup of the first seeded identity: the body its lookups send. */
export async function oneLookupAnswer(ctx: ScenarioContext): Promise<string> {
  const key = seededKey(0);
  const response = await fetch(`${ctx.url}${lookupPath(key.channel, key.externalId)}`, {
    headers: { 'x-api-key': ctx.runtimeKey },
  });
  if (response.status !== 200) throw new Error(`a lookup of a seeded identity answered ${response.status}`);
  return response.text();
}

/** The lookup cache's hit and miss counters from the server's /metrics; null where there are none (FastAPI, the floor). */
async function cacheCounts(url: string): Promise<{ hit: number; miss: number } | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const count = (result: string) =>
      Number(
        new RegExp(`^lookup_cache_requests_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN,
      );
    const counts = { hit: count('hit'), miss: count('miss') };
    return Number.isNaN(counts.hit) || Number.isNaN(counts.miss) ? null : counts;
  } catch {
    return null;
  }
}

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
