import { describe, expect, it } from 'vitest';
import type { ScenarioName } from '../../bench/args.js';
import {
  type BenchReport,
  fastApiCpuRatio,
  floorRatios,
  formatReport,
  headlineCeilingRatio,
  headlineFastApiRatio,
  spreadRatios,
  turnRatios,
} from '../../bench/report.js';
import type { ScenarioResult } from '../../bench/scenarios.js';

const result = (name: ScenarioName, requestsPerSecond: number): ScenarioResult => ({
  name,
  requestsPerSecond,
  p50Ms: 2,
  p99Ms: 8,
  requests: requestsPerSecond * 10,
  errors: 0,
  statuses: { '200': requestsPerSecond * 10 },
  serverCpu: 1,
  clientCpu: 0.6,
  cacheHitPercent: name === 'lookup_hit' ? 100 : null,
  serverRssPeakMb: 200,
  turns: 5,
});

// Three rounds in which the machine ran fast, slow, then in between: each round's own ratio is
// 82 %, 90 % and 74 %.
const rounds = [
  [result('healthz', 15_000), result('lookup_hit', 12_300)],
  [result('healthz', 11_000), result('lookup_hit', 9_900)],
  [result('healthz', 13_000), result('lookup_hit', 9_620)],
];
// Each scenario's median round, chosen separately: healthz from the third, lookup_hit from the second.
const medians = [result('healthz', 13_000), result('lookup_hit', 9_900)];

/** A report of a 3-round run at 100,000 identities with the rounds above. */
const reportOf = (fastApi: Pick<BenchReport, 'fastapi' | 'lookupHitToFastApi'>): BenchReport => ({
  machine: { cpus: 2, cpuModel: 'AMD EPYC', node: 'v20.20.2', loadAverage: [1, 1, 1] },
  settings: {
    database: 'sqlite',
    identities: 100_000,
    warmUpLookups: 100_000,
    serverNodeOptions: null,
    durationSeconds: 10,
    connections: 32,
    rounds: 3,
  },
  seed: { customers: 50_000, identities: 100_000, seconds: 2, identitiesPerSecond: 50_000 },
  scenarios: medians,
  rounds,
  lookupHitToCeiling: headlineCeilingRatio(medians, rounds),
  ...fastApi,
  rssMb: { afterStart: 110, peak: 200, end: 190 },
  heapUsedMbAtEnd: 80,
});

describe('npm run bench: the lookup / ceiling ratio it leads with', () => {
  it("is the median of the rounds' own ratios, not the ratio of two medians from different rounds", () => {
    // (The two median rows would say 9,900 / 13,000 = 76.2 %.)
    expect(headlineCeilingRatio(medians, rounds)).toBeCloseTo(0.82, 10);
    // An even count takes the lower middle one; one round (or none kept) is that round's ratio.
    expect(headlineCeilingRatio(medians, rounds.slice(0, 2))).toBeCloseTo(0.82, 10);
    expect(headlineCeilingRatio(medians, null)).toBeCloseTo(9_900 / 13_000, 10);
    expect(headlineCeilingRatio([result('healthz', 13_000)], rounds.slice(0, 1))).toBeNull();
  });

  it('prints it with every round and the two median rows, so that a reader sees both', () => {
    const report = reportOf({ fastapi: null, lookupHitToFastApi: null });
    expect(formatReport(report)).toContain(
      "lookup hit / ceiling: 82.0 %, the median round's, the two measured in 5 turns each of 2.0 s " +
        "(round by round: 82.0 %, 90.0 %, 74.0 %; the table's two median rows give 76.2 %)",
    );
  });
});

describe('npm run bench --compare-fastapi: the ratio to FastAPI', () => {
  // FastAPI's lookups took their turns with ours in each round: 1,230 / 900 / 1,300 req/s, so
  // that the rounds' own ratios are 10.0 ×, 11.0 × and 7.4 ×.
  const fastApiRounds = [result('lookup_hit', 1_230), result('lookup_hit', 900), result('lookup_hit', 1_300)];
  const fastapi = { lookupHit: result('lookup_hit', 1_230), rssMb: 100, rounds: fastApiRounds };

  it("is the median of the rounds' own ratios, as the ceiling ratio is", () => {
    // (Our median row over FastAPI's median row would say 9,900 / 1,230 = 8.0 ×.)
    expect(headlineFastApiRatio(medians, rounds, fastapi)).toBeCloseTo(12_300 / 1_230, 10);
    expect(
      headlineFastApiRatio(medians, rounds.slice(0, 2), { ...fastapi, rounds: fastApiRounds.slice(0, 2) }),
    ).toBeCloseTo(10, 10);
    // One round, or a report without FastAPI's rounds (those of before 3 December): the two rows.
    expect(headlineFastApiRatio(medians, null, { ...fastapi, rounds: null })).toBeCloseTo(9_900 / 1_230, 10);
    expect(headlineFastApiRatio(medians, rounds, { lookupHit: fastapi.lookupHit, rssMb: null })).toBeCloseTo(
      9_900 / 1_230,
      10,
    );
    expect(headlineFastApiRatio(medians, rounds, null)).toBeNull();
  });

  it('prints every round, and FastAPI as a row of the table', () => {
    const report = reportOf({ fastapi, lookupHitToFastApi: headlineFastApiRatio(medians, rounds, fastapi) });
    const text = formatReport(report);
    expect(text).toContain(
      "lookup hit / FastAPI + uvicorn lookup hit: 10.0 ×, the median round's, the two measured in 5 turns each " +
        '(round by round: 10.0 ×, 11.0 ×, 7.4 ×)',
    );
    expect(text).toMatch(/^FastAPI \+ uvicorn: lookup, hit +1230 /m);
  });

  it("also by CPU time per request, FastAPI's over ours, the median of the rounds' own ratios", () => {
    // Ours 40, 50 and 45 µs a lookup; FastAPI's 920, 900 and 1,080: 23.0 ×, 18.0 × and 24.0 ×.
    const cpu = (r: ScenarioResult, micros: number): ScenarioResult => ({ ...r, serverCpuMicrosPerRequest: micros });
    const ours = rounds.map((round, i) =>
      round.map((r) => (r.name === 'lookup_hit' ? cpu(r, [40, 50, 45][i] as number) : r)),
    );
    const theirs = fastApiRounds.map((r, i) => cpu(r, [920, 900, 1_080][i] as number));
    const withCpu = { ...fastapi, rounds: theirs, lookupHit: theirs[0] as ScenarioResult };
    const report = { ...reportOf({ fastapi: withCpu, lookupHitToFastApi: 10 }), rounds: ours };
    expect(fastApiCpuRatio(report)).toBeCloseTo(23, 10);
    expect(formatReport(report)).toContain('(round by round: 10.0 ×, 11.0 ×, 7.4 ×); by CPU time per request 23.0 ×');
    // One round: the two rows; no CPU figures: nothing said.
    const oneRound = { ...report, rounds: null, scenarios: [cpu(result('lookup_hit', 9_900), 46)] };
    expect(fastApiCpuRatio(oneRound)).toBeCloseTo(920 / 46, 10);
    expect(fastApiCpuRatio(reportOf({ fastapi, lookupHitToFastApi: 10 }))).toBeNull();
    expect(formatReport(reportOf({ fastapi, lookupHitToFastApi: 10 }))).not.toContain('by CPU');
  });
});

describe('npm run bench: ratios to the floor and of spread to hot keys', () => {
  const withCpu = (name: ScenarioName, requestsPerSecond: number, micros: number | null): ScenarioResult => ({
    ...result(name, requestsPerSecond),
    serverCpuMicrosPerRequest: micros,
  });

  it('are medians of the rounds, by requests/s (ours over theirs) and by CPU per request (theirs over ours)', () => {
    const ratios = turnRatios([
      [withCpu('lookup_hit', 6_000, 50), withCpu('lookup_hit', 10_000, 25)],
      [withCpu('lookup_hit', 5_000, 40), withCpu('lookup_hit', 10_000, 30)],
      [withCpu('lookup_hit', 9_000, 60), withCpu('lookup_hit', 10_000, 30)],
    ]);
    expect(ratios?.throughput).toBeCloseTo(0.6, 10);
    expect(ratios?.cpu).toBeCloseTo(0.5, 10);
    // A round without a CPU figure counts for requests/s only; no complete pair gives null.
    expect(turnRatios([[withCpu('lookup_hit', 5_000, null), withCpu('lookup_hit', 10_000, 30)]])).toEqual({
      throughput: 0.5,
      cpu: null,
    });
    expect(turnRatios([[undefined, withCpu('lookup_hit', 10_000, 30)]])).toBeNull();
  });

  it('pair each round of ours with the floor of the same round, and lookups of all keys with the hot ones', () => {
    const ours = [
      [withCpu('healthz', 8_000, 40), withCpu('lookup_hit', 6_000, 50), withCpu('lookup_hit_hot', 7_500, 45)],
      [withCpu('healthz', 9_000, 36), withCpu('lookup_hit', 7_000, 45), withCpu('lookup_hit_hot', 8_750, 40.5)],
    ];
    const floor = [withCpu('lookup_hit', 10_000, 30), withCpu('lookup_hit', 10_000, 30)];
    const toFloor = floorRatios(ours, floor);
    expect(toFloor?.healthz).toEqual({ throughput: 0.8, cpu: 0.75 });
    expect(toFloor?.lookupHit).toEqual({ throughput: 0.6, cpu: 0.6 });
    expect(floorRatios(ours, floor.slice(1))).toBeNull();
    expect(spreadRatios(ours)?.throughput).toBeCloseTo(0.8, 10);
    expect(spreadRatios(ours)?.cpu).toBeCloseTo(0.9, 10);
  });
});
