import type { ScenarioName } from './args.js';
import type { ScenarioResult } from './scenarios.js';

export interface BenchReport {
  machine: { cpus: number; cpuModel: string; node: string; loadAverage: number[] };
  settings: {
    database: 'sqlite' | 'postgres';
    identities: number;
    /** Lookups of distinct seeded keys before measuring (min(identities, cache size)). */
    warmUpLookups: number;
    /** The server's LOOKUP_CACHE_TTL_SECONDS (absent from reports of before 3 December: the default 300). */
    cacheTtlSeconds?: number;
    /** The server's LOOKUP_CACHE_MAX (absent from reports of before 3 December, 12:45 UTC: the default 100,000). */
    cacheEntries?: number;
    serverNodeOptions: string | null;
    durationSeconds: number;
    connections: number;
    /** Times the scenarios ran; `scenarios` holds each one's median round, `rounds` all of them. */
    rounds: number;
  };
  seed: { customers: number; identities: number; seconds: number; identitiesPerSecond: number };
  scenarios: ScenarioResult[];
  /** Every round's results, in the order they ran, when there was more than one. */
  rounds: ScenarioResult[][] | null;
  /**
   * lookup_hit requests/s divided by healthz requests/s: with several rounds, the median of the
   * rounds' own ratios (see `headlineCeilingRatio`).
   */
  lookupHitToCeiling: number | null;
  /**
   * The same lookup scenario on bench/fastapi/app.py, with --compare-fastapi: measured in turns
   * with our lookup_hit in every round; `lookupHit` is its median round, `rounds` all of them
   * (when there was more than one; absent from reports of before 3 December, measured once).
   */
  fastapi: { lookupHit: ScenarioResult; rssMb: number | null; rounds?: ScenarioResult[] | null } | null;
  /**
   * The same requests on bench/floor/server.mjs (Node's bare HTTP server answering a lookup's
   * body), with --compare-node: measured in turns with our lookup_hit in every round, as FastAPI.
   * Absent from reports of before 3 December, 13:25 UTC.
   */
  floor?: { lookupHit: ScenarioResult; rounds: ScenarioResult[] | null } | null;
  /**
   * Our lookup_hit requests/s divided by FastAPI's: with several rounds, the median of the rounds'
   * own ratios (see `headlineFastApiRatio`).
   */
  lookupHitToFastApi: number | null;
  /**
   * Our /healthz and lookup hits against the floor (--compare-node), the medians of the rounds'
   * own ratios: by requests/s (ours over the floor's) and by the server's CPU time per request
   * (the floor's over ours). 1 would be as cheap as Node's bare server. Absent before 4 December.
   */
  toFloor?: { healthz: Ratios | null; lookupHit: Ratios | null } | null;
  /**
   * Lookups spread over every key against lookups of 20,000 cached ones (lookup_hit over
   * lookup_hit_hot), the same two ways, when both ran. Absent before 4 December.
   */
  spreadToHot?: Ratios | null;
  rssMb: { afterStart: number | null; peak: number | null; end: number | null };
  /** V8 heap in use after the last scenario (the caches live there). */
  heapUsedMbAtEnd: number | null;
}

/** One comparison of two scenarios measured in turns: by requests/s and by CPU time per request. */
export interface Ratios {
  throughput: number | null;
  cpu: number | null;
}

const LABELS: Record<string, string> = {
  healthz: 'GET /healthz (ceiling)',
  lookup_hit: 'lookup, hit',
  lookup_hit_hot: 'lookup, hit, 20k hot keys',
  lookup_hit_serial: 'lookup, hit, 1 connection',
  lookup_hit_paced: 'lookup, hit, paced at 50 %',
  lookup_hit_skewed: 'lookup, hit, skewed keys',
  lookup_miss: 'lookup, miss (404)',
  create_identity: 'create identity',
  create_link_request: 'create link request',
  claim: 'claim code + redeem (2 req)',
  fastapi_lookup_hit: 'FastAPI + uvicorn: lookup, hit',
  floor_lookup_hit: "node:http, a lookup's body (floor)",
};

const fixed = (n: number | null | undefined, digits = 0) => (n === null || n === undefined ? '-' : n.toFixed(digits));

/** A table a person can read. */
export function formatReport(report: BenchReport): string {
  const { settings, seed, machine } = report;
  const lines = [
    `identity-service benchmark: ${settings.database}, ${settings.identities} identities, ` +
      `${settings.connections} connections, ${settings.durationSeconds} s per scenario, ` +
      (settings.rounds > 1
        ? `median of ${settings.rounds} rounds, each after ${settings.warmUpLookups} warm-up lookups`
        : `after ${settings.warmUpLookups} warm-up lookups`) +
      (settings.cacheEntries !== undefined ? `, cache of ${settings.cacheEntries} answers` : '') +
      (settings.cacheTtlSeconds !== undefined ? `, answers cached ${settings.cacheTtlSeconds} s` : '') +
      (settings.serverNodeOptions ? `, server node flags ${settings.serverNodeOptions}` : ''),
    `machine: ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, load average at start ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    `seed (import): ${seed.customers} customers, ${seed.identities} identities in ${seed.seconds.toFixed(2)} s = ${fixed(seed.identitiesPerSecond)} identities/s`,
    '',
  ];
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'requests',
    'errors',
    'server CPU',
    'CPU µs/req',
    'load gen CPU',
    'cache hits',
    'RSS MB',
  ];
  const measured = [
    ...report.scenarios,
    ...(report.fastapi ? [{ ...report.fastapi.lookupHit, name: 'fastapi_lookup_hit' }] : []),
    ...(report.floor ? [{ ...report.floor.lookupHit, name: 'floor_lookup_hit' }] : []),
  ];
  const rows = measured.map((s) => [
    LABELS[s.name] ?? s.name,
    fixed(s.requestsPerSecond),
    fixed(s.p50Ms, 2),
    fixed(s.p99Ms, 2),
    String(s.requests),
    String(s.errors),
    fixed(s.serverCpu, 2),
    fixed(s.serverCpuMicrosPerRequest, 1),
    fixed(s.clientCpu, 2),
    s.cacheHitPercent === null || s.cacheHitPercent === undefined ? '-' : `${s.cacheHitPercent.toFixed(1)} %`,
    fixed(s.serverRssPeakMb),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  lines.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), '');
  lines.push(
    `(CPU: seconds of CPU per second of the run; the machine has ${machine.cpus} cores for both. RSS: the server's peak during the run)`,
  );
  if (report.scenarios.some((s) => s.name === 'lookup_hit_paced')) {
    lines.push(
      `(paced: ${settings.connections} connections, requests at a steady half of the req/s "lookup, hit" made flat out in the same round, sent in 1 ms batches)`,
    );
  }
  if (report.lookupHitToCeiling !== null) {
    const perRound = roundRatios(report.rounds);
    const turns = report.scenarios.find((s) => s.name === 'lookup_hit')?.turns ?? 1;
    const percent = (ratio: number | null) => (ratio === null ? '-' : `${(ratio * 100).toFixed(1)} %`);
    lines.push(
      `lookup hit / ceiling: ${percent(report.lookupHitToCeiling)}` +
        (perRound.length > 1 ? `, the median round's` : '') +
        (turns > 1
          ? `, the two measured in ${turns} turns each of ${fixed(settings.durationSeconds / turns, 1)} s`
          : '') +
        (perRound.length > 1
          ? ` (round by round: ${perRound.map(percent).join(', ')}; the table's two median rows give ${percent(ceilingRatio(report.scenarios))})`
          : ''),
    );
  }
  if (report.lookupHitToFastApi !== null) {
    const perRound = fastApiRoundRatios(report.rounds, report.fastapi?.rounds);
    const turns = report.fastapi?.lookupHit.turns ?? 1;
    const times = (ratio: number | null) => (ratio === null ? '-' : `${ratio.toFixed(1)} ×`);
    const byCpu = fastApiCpuRatio(report);
    lines.push(
      `lookup hit / FastAPI + uvicorn lookup hit: ${times(report.lookupHitToFastApi)}` +
        (perRound.length > 1 ? `, the median round's` : '') +
        (turns > 1 ? `, the two measured in ${turns} turns each` : '') +
        (perRound.length > 1 ? ` (round by round: ${perRound.map(times).join(', ')})` : '') +
        (byCpu === null ? '' : `; by CPU time per request ${times(byCpu)}`),
    );
  }
  const hit = report.scenarios.find((s) => s.name === 'lookup_hit');
  if (report.floor && hit) {
    const p99s = (rounds: (ScenarioResult | undefined)[]) => rounds.map((r) => `${fixed(r?.p99Ms, 2)} ms`).join(', ');
    const floorRounds = report.floor.rounds;
    lines.push(
      `p99 of lookup hits ${fixed(hit.p99Ms, 2)} ms; of Node's bare HTTP server answering the same requests in the same turns ${fixed(report.floor.lookupHit.p99Ms, 2)} ms` +
        (floorRounds && report.rounds
          ? ` (round by round: lookups ${p99s(report.rounds.map((round) => round.find((s) => s.name === 'lookup_hit')))}; node:http ${p99s(floorRounds)})`
          : ''),
    );
  }
  const both = (r: Ratios) =>
    `${r.throughput === null ? '-' : r.throughput.toFixed(2)} by requests/s, ${r.cpu === null ? '-' : r.cpu.toFixed(2)} by CPU time per request`;
  if (report.toFloor) {
    for (const [label, r] of [
      ['/healthz', report.toFloor.healthz],
      ['lookup hit', report.toFloor.lookupHit],
    ] as const) {
      if (r) lines.push(`${label} / node:http floor: ${both(r)} (median of the rounds' own ratios)`);
    }
  }
  if (report.spreadToHot) {
    lines.push(`lookup hit (all keys) / lookup hit (20k hot keys): ${both(report.spreadToHot)}`);
  }
  lines.push(
    `server RSS: ${fixed(report.rssMb.afterStart)} MB after start, ${fixed(report.rssMb.peak)} MB peak, ${fixed(report.rssMb.end)} MB at the end; V8 heap in use at the end ${fixed(report.heapUsedMbAtEnd)} MB`,
  );
  return `${lines.join('\n')}\n`;
}

/** lookup_hit requests/s over healthz requests/s in one set of results (a round, or the medians); null if it lacks either. */
export function ceilingRatio(round: ScenarioResult[]): number | null {
  const ceiling = round.find((s) => s.name === 'healthz')?.requestsPerSecond;
  const hit = round.find((s) => s.name === 'lookup_hit')?.requestsPerSecond;
  return ceiling && hit !== undefined ? hit / ceiling : null;
}

/**
 * The ratio the report leads with. With several rounds: the median of each round's own ratio
 * (the lower middle one for an even count). The two scenarios take turns within a round, so a
 * round's ratio compares seconds of the same machine; the table's rows are each scenario's median
 * round, chosen separately, and their ratio may pair a fast round with a slow one.
 */
export function headlineCeilingRatio(scenarios: ScenarioResult[], rounds: ScenarioResult[][] | null): number | null {
  const ratios = roundRatios(rounds);
  return ratios.length > 1 ? median(ratios) : ceilingRatio(scenarios);
}

/** The median of some numbers (the lower middle one for an even count); null for none. */
export function median(values: number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

const lookupRate = (round: ScenarioResult[]) => round.find((s) => s.name === 'lookup_hit')?.requestsPerSecond;

/**
 * Our lookup hits over FastAPI's, the way `headlineCeilingRatio` does it: with several rounds, the
 * median of the rounds' own ratios (the two took turns within each round); else the ratio of the
 * one measurement of each.
 */
export function headlineFastApiRatio(
  scenarios: ScenarioResult[],
  rounds: ScenarioResult[][] | null,
  fastapi: BenchReport['fastapi'],
): number | null {
  if (!fastapi) return null;
  const ratios = fastApiRoundRatios(rounds, fastapi.rounds);
  if (ratios.length > 1) return median(ratios);
  const ours = lookupRate(scenarios);
  return ours === undefined ? null : ours / fastapi.lookupHit.requestsPerSecond;
}

/**
 * FastAPI's CPU time per lookup over ours, as `turnRatios` takes it: the median of the rounds' own
 * ratios, else the one measurement of each; null without CPU figures.
 */
export function fastApiCpuRatio(report: Pick<BenchReport, 'scenarios' | 'rounds' | 'fastapi'>): number | null {
  const { fastapi, rounds } = report;
  if (!fastapi) return null;
  const hit = (round: ScenarioResult[]) => round.find((s) => s.name === 'lookup_hit');
  const pairs: [ScenarioResult | undefined, ScenarioResult | undefined][] =
    rounds && fastapi.rounds && rounds.length === fastapi.rounds.length
      ? rounds.map((round, i) => [hit(round), fastapi.rounds?.[i]])
      : [[hit(report.scenarios), fastapi.lookupHit]];
  return turnRatios(pairs)?.cpu ?? null;
}

/** Each round's own ratio of our lookup hits to FastAPI's, in the order the rounds ran. */
function fastApiRoundRatios(rounds: ScenarioResult[][] | null, fastApiRounds: ScenarioResult[] | null | undefined) {
  if (!rounds || !fastApiRounds || rounds.length !== fastApiRounds.length) return [];
  return rounds.flatMap((round, i) => {
    const ours = lookupRate(round);
    const theirs = fastApiRounds[i]?.requestsPerSecond;
    return ours !== undefined && theirs ? [ours / theirs] : [];
  });
}

/** Each round's own ratio, in the order the rounds ran (rounds without both scenarios left out). */
function roundRatios(rounds: ScenarioResult[][] | null): number[] {
  return (rounds ?? []).map(ceilingRatio).filter((r): r is number => r !== null);
}

/** The median of per-round ratios, leaving out rounds that lack a figure. */
function medianOf(values: (number | null | undefined)[]): number | null {
  return median(values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
}

/**
 * `a` against `b`, round by round (they took turns in each round), as the median of the rounds'
 * own ratios: requests/s of a over b's, and CPU per request of b over a's (so that for both, 1
 * means "as cheap as b" and less means dearer).
 */
export function turnRatios(pairs: [ScenarioResult | undefined, ScenarioResult | undefined][]): Ratios | null {
  const complete = pairs.filter((p): p is [ScenarioResult, ScenarioResult] => p[0] !== undefined && p[1] !== undefined);
  if (complete.length === 0) return null;
  return {
    throughput: medianOf(complete.map(([a, b]) => a.requestsPerSecond / b.requestsPerSecond)),
    cpu: medianOf(
      complete.map(([a, b]) =>
        a.serverCpuMicrosPerRequest && b.serverCpuMicrosPerRequest
          ? b.serverCpuMicrosPerRequest / a.serverCpuMicrosPerRequest
          : null,
      ),
    ),
  };
}

/** Our scenario `name` of every round against the floor's lookups of the same round. */
export function floorRatios(rounds: ScenarioResult[][], floorRounds: ScenarioResult[]): BenchReport['toFloor'] {
  if (floorRounds.length === 0 || floorRounds.length !== rounds.length) return null;
  const against = (name: ScenarioName) =>
    turnRatios(rounds.map((round, i) => [round.find((s) => s.name === name), floorRounds[i]]));
  return { healthz: against('healthz'), lookupHit: against('lookup_hit') };
}

/** lookup_hit (every key) against lookup_hit_hot (the first 20,000) in the same rounds. */
export function spreadRatios(rounds: ScenarioResult[][]): Ratios | null {
  return turnRatios(
    rounds.map((round) => [round.find((s) => s.name === 'lookup_hit'), round.find((s) => s.name === 'lookup_hit_hot')]),
  );
}
