import { parseArgs } from 'node:util';

export const SCENARIOS = [
  'healthz',
  'lookup_hit',
  // 20,000 identities only (the last the warm-up cached), in turns with lookup_hit: at a million
  // identities, how close lookups spread over every key come to lookups of keys the cache holds.
  'lookup_hit_hot',
  'lookup_hit_serial',
  'lookup_miss',
  'create_identity',
  // A stranger's first request: one new pending link request (and its code's HMAC) per request.
  'create_link_request',
  'claim',
  // Last, these two: they cache answers late in a round (what the warm-up stored has expired by
  // then under a short TTL, the smoke test's), and an answer cached in the middle of a round
  // would expire during the next round's uniform lookups, after that round's warm-up.
  'lookup_hit_skewed',
  // After lookup_hit: it asks for half of the rate lookup_hit made in the same round.
  'lookup_hit_paced',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchArgs {
  identities: number;
  durationSeconds: number;
  connections: number;
  json: boolean;
  /** postgres://… (a scratch database is created on that server and dropped after), else a temp SQLite file. */
  database: string | undefined;
  scenarios: ScenarioName[];
  logLevel: string;
  /** Write the server's V8 CPU profile into this directory (`node --cpu-prof`). */
  cpuProf: string | undefined;
  batchSize: number | undefined;
  /** Also measure lookups on bench/fastapi/app.py (FastAPI + uvicorn) over the same SQLite file. */
  compareFastApi: boolean;
  /** Also measure lookups on bench/floor/server.mjs (Node's bare HTTP server answering a lookup's body). */
  compareNode: boolean;
  /** Node flags for the server only, after those of `npm start` (so they override them), e.g. --max-old-space-size=160. */
  serverNodeOptions: string | undefined;
  /** Times the whole list of scenarios is run; each scenario's median round is reported. */
  rounds: number;
}

const USAGE = `usage: npm run bench -- [options]
  --identities N     identities to seed (default 100000)
  --duration S       seconds per scenario (default 10)
  --connections C    concurrent connections (default 32)
  --database URL     postgres://… (a scratch database is made on that server); default a temp SQLite file
  --scenarios LIST   comma-separated subset of ${SCENARIOS.join(',')}
  --log-level L      the server's LOG_LEVEL (default info, as in production; request lines go to /dev/null)
  --cpu-prof DIR     write the server's CPU profile (node --cpu-prof) into DIR
  --batch-size N     customers per import transaction while seeding
  --compare-fastapi  also measure lookup hits on bench/fastapi/app.py (FastAPI + uvicorn, SQLite only),
                     in turns with lookup_hit in every round
  --compare-node     also measure the same requests on Node's bare HTTP server answering a lookup's body
                     (bench/floor/server.mjs: the machine's floor), in turns with lookup_hit in every round
  --server-node-options "…"  node flags for the server, after npm start's own, e.g. --max-old-space-size=160
  --rounds N         run the scenarios N times, in turn, and report each one's median round (default 1)
  --json             print JSON instead of a table`;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number\n${USAGE}`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      identities: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      database: { type: 'string' },
      scenarios: { type: 'string' },
      'log-level': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'batch-size': { type: 'string' },
      json: { type: 'boolean' },
      'compare-fastapi': { type: 'boolean' },
      'compare-node': { type: 'boolean' },
      'server-node-options': { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const scenarios = (values.scenarios?.split(',') ?? [...SCENARIOS]).map((s) => s.trim()) as ScenarioName[];
  const unknown = scenarios.filter((s) => !SCENARIOS.includes(s));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`);
  const twice = scenarios.filter((s, i) => scenarios.indexOf(s) !== i);
  if (twice.length > 0) throw new Error(`scenario(s) listed twice: ${[...new Set(twice)].join(', ')}\n${USAGE}`);
  const paced = scenarios.indexOf('lookup_hit_paced');
  if (paced >= 0 && !scenarios.slice(0, paced).includes('lookup_hit')) {
    throw new Error(`lookup_hit_paced asks for half of lookup_hit's rate: list lookup_hit before it\n${USAGE}`);
  }
  const database = values.database;
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database)) {
    throw new Error(`--database must be a postgres:// URL (SQLite is the default)\n${USAGE}`);
  }
  const compareFastApi = values['compare-fastapi'] ?? false;
  if (compareFastApi && database !== undefined) {
    throw new Error(`--compare-fastapi runs on the SQLite file only (FastAPI reads it directly)\n${USAGE}`);
  }
  if (compareFastApi && !scenarios.includes('lookup_hit')) {
    throw new Error(`--compare-fastapi measures FastAPI's lookups in turns with lookup_hit: list lookup_hit\n${USAGE}`);
  }
  const compareNode = values['compare-node'] ?? false;
  if (compareNode && !scenarios.includes('lookup_hit')) {
    throw new Error(`--compare-node measures its requests in turns with lookup_hit: list lookup_hit\n${USAGE}`);
  }
  return {
    identities: Math.round(positive('identities', values.identities, 100_000)),
    durationSeconds: positive('duration', values.duration, 10),
    connections: Math.round(positive('connections', values.connections, 32)),
    json: values.json ?? false,
    database,
    scenarios,
    logLevel: values['log-level'] ?? 'info',
    cpuProf: values['cpu-prof'],
    compareFastApi,
    compareNode,
    serverNodeOptions: values['server-node-options'],
    rounds: Math.round(positive('rounds', values.rounds, 1)),
    batchSize:
      values['batch-size'] === undefined ? undefined : Math.round(positive('batch-size', values['batch-size'], 1)),
  };
}
