import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { ImportSummary } from '../src/features/data/import.service.js';
import { createServices } from '../src/services.js';
import { parseBenchArgs, type ScenarioName } from './args.js';
import { createBenchDatabase } from './database.js';
import {
  type BenchReport,
  floorRatios,
  formatReport,
  headlineCeilingRatio,
  headlineFastApiRatio,
  spreadRatios,
} from './report.js';
import {
  type Claimable,
  oneLookupAnswer,
  runInTurns,
  runScenario,
  type ScenarioContext,
  type ScenarioResult,
  type TurnTaker,
  warmUp,
} from './scenarios.js';
import { writeClaimPoolFile, writeSeedFile } from './seed.js';
import { checkFastApiInstalled, type ServerProcess, startFastApi, startFloor, startServer } from './server-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
/**
 * LOOKUP_CACHE_MAX's default, which the server runs with unless the bench's environment sets
 * another (the warm-up then fills that many entries, e.g. to measure a cache of every identity).
 */
const CACHE_ENTRIES = 100_000;
/**
 * LOOKUP_CACHE_TTL_SECONDS for the server, unless the bench's environment sets it: an hour, not
 * the default 5 minutes. A hit does not renew an answer's life, so the answers the first round's
 * warm-up cached would expire in the middle of a later round once the run is past 5 minutes (a
 * 3-round run on a slow day: round 3's lookups found 41–100 % in the cache, 3 December), and that
 * round would measure the cache refilling. How long an answer may live costs nothing per lookup.
 */
const CACHE_TTL_SECONDS = 3_600;
const quiet = { warn: () => undefined, error: (o: object, m: string) => console.error(m, o) };

/** Chains per second the claim scenario could reach at most, to size its pool of unverified identities. */
const MAX_CLAIMS_PER_SECOND = 3_000;

/**
 * Imports a file as an operator would: `identity-service import FILE --json`, in a process of its
 * own (from the sources, under tsx: as fast as the compiled command, measured), so that the seed
 * line is the import's real speed, not that of an import inside the bench's busy process.
 */
async function importWithCli(url: string, file: string, batchSize: number | undefined): Promise<ImportSummary> {
  const args = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'import', file, '--json'];
  if (batchSize !== undefined) args.push('--batch-size', String(batchSize));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`identity-service import exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  return JSON.parse(stdout) as ImportSummary;
}

async function seed(url: string, dir: string, identities: number, batchSize: number | undefined, claimChains: number) {
  const file = join(dir, 'seed.jsonl');
  await writeSeedFile(file, identities);
  const summary = await importWithCli(url, file, batchSize);
  const extra = Math.max(0, claimChains - Math.floor(identities / 2));
  if (extra > 0) {
    await writeClaimPoolFile(join(dir, 'claim-pool.jsonl'), extra);
    await importWithCli(url, join(dir, 'claim-pool.jsonl'), undefined);
  }
  const services = await createServices(loadConfig({ DATABASE_URL: url, BOOTSTRAP_API_KEY: ADMIN_KEY }), {
    logger: quiet,
  });
  try {
    const runtime = await services.apiKeys.create({ keyId: null, name: 'bench' }, { name: 'bench', scope: 'runtime' });
    const db = services.db.kysely;
    const customerIds = (await db.selectFrom('customers').select('id').limit(5_000).execute()).map((r) => r.id);
    const claimable: Claimable[] = (
      await db
        .selectFrom('identities')
        .select(['id', 'customer_id', 'channel', 'external_id'])
        .where('channel', 'in', ['slack', 'benchclaim'])
        .where('verified_at', 'is', null)
        .limit(claimChains + 1_000)
        .execute()
    ).map((r) => ({ customerId: r.customer_id, identityId: r.id, channel: r.channel, externalId: r.external_id }));
    return { summary, runtimeKey: runtime.key, customerIds, claimable };
  } finally {
    await services.close();
  }
}

/** V8 heap in use, from the server's own /metrics (prom-client's default metrics). */
async function heapUsedMb(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const match = /^nodejs_heap_size_used_bytes (\d+(\.\d+)?)/m.exec(text);
    return match ? Number(match[1]) / 1024 / 1024 : null;
  } catch {
    return null;
  }
}

/** lookup_hit_paced asks for this share of the rate lookup_hit made flat out in the same round. */
const PACED_SHARE = 0.5;

/**
 * The scenarios in order, as steps: the ceiling and lookup hits (when both are asked for) make one
 * step, where they are measured in turns (`runInTurns`), since the target is their ratio. With
 * --compare-fastapi or --compare-node, the other servers' lookups take their turns in lookup_hit's
 * step too (see main).
 */
function steps(names: ScenarioName[]): ScenarioName[][] {
  const paired: ScenarioName[] = ['healthz', 'lookup_hit', 'lookup_hit_hot'];
  const both = names.includes('lookup_hit') && names.some((name) => name !== 'lookup_hit' && paired.includes(name));
  const result: ScenarioName[][] = [];
  for (const name of names) {
    if (!both || !paired.includes(name)) result.push([name]);
    else if (name === names.find((n) => paired.includes(n))) result.push(names.filter((n) => paired.includes(n)));
  }
  return result;
}

/**
 * A server measured beside ours: FastAPI's (--compare-fastapi) or Node's bare one (--compare-node).
 * It runs from the start, idle but for its turns: its lookups take their turns with ours, in every
 * round, so that comparing the two compares the same seconds of this shared machine (measured
 * once after our rounds, the ratio to FastAPI moved from 9.8 to 23.3 × by run).
 */
interface Comparison {
  /** For the progress lines. */
  label: string;
  server: ServerProcess;
  ctx: ScenarioContext;
  /** Its lookup_hit of every round, in order. */
  rounds: ScenarioResult[];
}

/** The round whose requests/s is the median (the lower middle one for an even count). */
function medianRound(rounds: (ScenarioResult | undefined)[]): ScenarioResult {
  const sorted = rounds.filter((r) => r !== undefined).sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error('no round was measured');
  return median;
}

async function main() {
  const args = parseBenchArgs(process.argv.slice(2));
  const say = (text: string) => {
    if (!args.json) process.stderr.write(`${text}\n`);
  };
  if (args.compareFastApi) checkFastApiInstalled();
  const cacheTtl = process.env.LOOKUP_CACHE_TTL_SECONDS ?? String(CACHE_TTL_SECONDS);
  const cacheEntries = Number(process.env.LOOKUP_CACHE_MAX || CACHE_ENTRIES);
  if (!Number.isSafeInteger(cacheEntries) || cacheEntries < 0) {
    throw new Error(`LOOKUP_CACHE_MAX must be a whole number of entries, not ${process.env.LOOKUP_CACHE_MAX}`);
  }
  const loadAverage = loadavg();
  const database = await createBenchDatabase(args.database);
  try {
    say(`seeding ${args.identities} identities into ${database.kind} …`);
    const claimChains = args.scenarios.includes('claim')
      ? Math.ceil(args.durationSeconds * args.rounds * MAX_CLAIMS_PER_SECOND)
      : 0;
    const seeded = await seed(database.url, database.dir, args.identities, args.batchSize, claimChains);
    say(`starting the server …`);
    const server = await startServer(
      {
        DATABASE_URL: database.url,
        BOOTSTRAP_API_KEY: ADMIN_KEY,
        LOG_LEVEL: args.logLevel,
        LOOKUP_CACHE_TTL_SECONDS: cacheTtl,
        LOOKUP_CACHE_MAX: String(cacheEntries),
        // create_link_request makes strangers faster than anyone decides: requests live 1 s, so
        // that about a second's worth are pending (each new one counts them against the cap, as
        // a server near LINK_REQUESTS_MAX_PENDING's default of 1000 does), and the cap is not met.
        LINK_REQUEST_TTL_SECONDS: '1',
        LINK_REQUESTS_MAX_PENDING: '1000000',
        // The bench's own NODE_OPTIONS (if any) are not the server's.
        NODE_OPTIONS: '',
      },
      { cpuProfDir: args.cpuProf, nodeArgs: args.serverNodeOptions?.split(/\s+/).filter(Boolean) },
    );
    const rss = { afterStart: server.rssMb() ?? null, peak: 0, end: null as number | null };
    const comparisons: Comparison[] = [];
    let fastApi: Comparison | undefined;
    let floor: Comparison | undefined;
    let fastApiRss: number | null = null;
    const sampler = setInterval(() => {
      rss.peak = Math.max(rss.peak, server.rssMb() ?? 0);
    }, 200);
    const results: ScenarioResult[] = [];
    const allRounds: ScenarioResult[][] = [];
    let heapMb: number | null = null;
    let warmed = 0;
    try {
      const ctx: ScenarioContext = {
        url: server.url,
        durationSeconds: args.durationSeconds,
        connections: args.connections,
        runtimeKey: seeded.runtimeKey,
        adminKey: ADMIN_KEY,
        identities: seeded.summary.identities,
        serverPid: server.pid,
        customerIds: seeded.customerIds,
        claimable: seeded.claimable,
      };
      warmed = Math.min(seeded.summary.identities, cacheEntries);
      ctx.warmed = warmed;
      const compare = async (label: string, start: () => Promise<ServerProcess>) => {
        const other = await start();
        const comparison = { label, server: other, ctx: { ...ctx, url: other.url, serverPid: other.pid }, rounds: [] };
        comparisons.push(comparison);
        // Unmeasured, once: its connections (and for FastAPI, the file's pages it reads) get going.
        await runScenario('lookup_hit', { ...comparison.ctx, durationSeconds: Math.min(2, args.durationSeconds) });
        return comparison;
      };
      if (args.compareFastApi) {
        say('starting FastAPI + uvicorn on the same SQLite file …');
        fastApi = await compare('FastAPI', () => startFastApi(database.url.slice('sqlite:'.length)));
      }
      if (args.compareNode) {
        say("starting Node's bare HTTP server (bench/floor/server.mjs) …");
        const body = await oneLookupAnswer(ctx);
        floor = await compare('node:http', () => startFloor(body));
      }
      // Rounds take turns (healthz, lookup, …, healthz, lookup, …) so that a slow spell of a
      // shared machine falls on every scenario alike rather than on whichever ran then.
      for (let round = 1; round <= args.rounds; round++) {
        const rounds = args.rounds > 1 ? ` (round ${round} of ${args.rounds})` : '';
        // Unmeasured: the JIT compiles the hot paths, and the cache fills as a running server's
        // would. Again before every round: cached answers expire (LOOKUP_CACHE_TTL_SECONDS), and
        // a later round would otherwise find those of the first warm-up expired and measure the
        // cache refilling instead.
        // Twice: a write of the previous round that commits during the first pass makes the
        // lookups then in flight not store what they read (the cache's guard against stale
        // answers); the second pass, all hits but those, fills them in.
        say(`warming up: ${warmed} lookups${rounds} …`);
        await warmUp(ctx, warmed);
        await warmUp(ctx, warmed);
        const ran: ScenarioResult[] = [];
        for (const step of steps(args.scenarios)) {
          const others = step.includes('lookup_hit') ? comparisons : [];
          const takers: TurnTaker[] = [
            ...step.map((name) => ({ name, ctx })),
            ...others.map((other) => ({ name: 'lookup_hit' as const, ctx: other.ctx })),
          ];
          const names = [...step, ...others.map((other) => `${other.label} lookup_hit`)];
          const how = takers.length > 1 ? ' each, in turns' : '';
          say(`running ${names.join(' and ')} for ${args.durationSeconds} s${how}${rounds} …`);
          // Several take turns; one alone is measured in one go.
          const measured =
            takers.length > 1
              ? await runInTurns(takers, args.durationSeconds)
              : await Promise.all(takers.map((taker) => runScenario(taker.name, taker.ctx)));
          ran.push(...measured.slice(0, step.length));
          for (const [i, other] of others.entries()) other.rounds.push(measured[step.length + i] as ScenarioResult);
          const flatOut = ran.find((r) => r.name === 'lookup_hit');
          if (flatOut) ctx.pacedRate = Math.max(1, Math.round(flatOut.requestsPerSecond * PACED_SHARE));
        }
        allRounds.push(ran);
      }
      results.push(
        ...args.scenarios.map((name) => medianRound(allRounds.map((ran) => ran.find((r) => r.name === name)))),
      );
      heapMb = await heapUsedMb(server.url);
    } finally {
      clearInterval(sampler);
      rss.end = server.rssMb() ?? null;
      rss.peak = Math.max(rss.peak, rss.end ?? 0, ...allRounds.flat().map((r) => r.serverRssPeakMb ?? 0));
      fastApiRss = fastApi?.server.rssMb() ?? null;
      await Promise.all([server.stop(), ...comparisons.map((other) => other.server.stop())]);
    }
    const measuredBeside = (other: Comparison | undefined) =>
      other && other.rounds.length > 0
        ? { lookupHit: medianRound(other.rounds), rounds: args.rounds > 1 ? other.rounds : null }
        : null;
    const fastApiMeasured = measuredBeside(fastApi);
    const fastapi: BenchReport['fastapi'] = fastApiMeasured && { ...fastApiMeasured, rssMb: fastApiRss };
    const report: BenchReport = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage },
      settings: {
        database: database.kind,
        identities: seeded.summary.identities,
        warmUpLookups: warmed,
        cacheTtlSeconds: Number(cacheTtl),
        cacheEntries,
        serverNodeOptions: args.serverNodeOptions ?? null,
        durationSeconds: args.durationSeconds,
        connections: args.connections,
        rounds: args.rounds,
      },
      seed: {
        customers: seeded.summary.customers,
        identities: seeded.summary.identities,
        seconds: seeded.summary.seconds,
        identitiesPerSecond: seeded.summary.identities / seeded.summary.seconds,
      },
      scenarios: results,
      rounds: args.rounds > 1 ? allRounds : null,
      lookupHitToCeiling: headlineCeilingRatio(results, args.rounds > 1 ? allRounds : null),
      fastapi,
      floor: measuredBeside(floor),
      lookupHitToFastApi: headlineFastApiRatio(results, args.rounds > 1 ? allRounds : null, fastapi),
      toFloor: floor ? floorRatios(allRounds, floor.rounds) : null,
      spreadToHot: spreadRatios(allRounds),
      rssMb: { afterStart: rss.afterStart, peak: rss.peak || null, end: rss.end },
      heapUsedMbAtEnd: heapMb,
    };
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  } finally {
    await database.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
