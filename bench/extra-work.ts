// How much of its rate a server keeps when each request costs a few microseconds more: the floor
// (bench/floor/server.mjs, Node's bare HTTP server) with FLOOR_WORK_US of CPU spent on every
// request, in turns with the floor as it is, 32 connections flat out from this process as in
// `npm run bench`. It answers what a lookup that misses the cache may cost at most for a target
// such as "spread lookups at 0.80 of cached ones" (issue 21; docs/performance.md). Shares are of
// the first figure of --work: start it at what a cached lookup costs beyond the floor (e.g. 16)
// to ask how much a miss may add to it.
//
//   npx tsx bench/extra-work.ts [--work 0,10,20,40,80] [--rounds 3] [--seconds 2]
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { median } from './report.js';
import { cpuSecondsOf } from './scenarios.js';
import { type ServerProcess, startFloor } from './server-process.js';

// A lookup's answer, the size ours sends.
const BODY = JSON.stringify({
  channel: 'telegram',
  customer_email: 'customer1@bench.example',
  customer_id: '0b5f8a52-8d1e-4a53-9f55-3c0c1f6f2a10',
  display_name: null,
  external_id: '100000001',
  identity_id: '6f1d2c3b-4a59-4e7f-8a6b-1c2d3e4f5a6b',
  role_override: null,
  verified: false,
  verified_via: null,
});

const { values } = parseArgs({
  options: {
    work: { type: 'string', default: '0,10,20,40,80' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
  },
});
const works = [...new Set(values.work.split(',').map(Number))];
if (works.length === 0 || works.some((w) => !Number.isFinite(w) || w < 0))
  throw new Error('--work: microseconds, comma-separated');
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

async function turn(server: ServerProcess) {
  const before = cpuSecondsOf(server.pid) ?? Number.NaN;
  const result = await autocannon({ url: server.url, connections, duration: seconds });
  const cpu = (cpuSecondsOf(server.pid) ?? Number.NaN) - before;
  return { rate: result.requests.total / result.duration, cpuMicros: (cpu * 1e6) / result.requests.total };
}

const servers = await Promise.all(works.map((w) => startFloor(BODY, w)));
try {
  for (const server of servers) await autocannon({ url: server.url, connections, duration: 1 });
  const measured = works.map(() => [] as { rate: number; cpuMicros: number; share: number }[]);
  for (let round = 0; round < rounds; round++) {
    const turns = [];
    for (const server of servers) turns.push(await turn(server));
    const base = (turns[0] as { rate: number }).rate;
    for (const [i, t] of turns.entries()) measured[i]?.push({ ...t, share: t.rate / base });
  }
  process.stdout.write(
    `the floor with extra CPU per request, ${connections} connections, ${rounds} rounds of ${seconds} s turns, medians\n\n` +
      'extra µs  requests/s  share of the first  CPU µs/req  CPU µs/req beyond the extra\n',
  );
  works.forEach((w, i) => {
    const rows = measured[i] ?? [];
    const [rate, share, cpu] = [rows.map((r) => r.rate), rows.map((r) => r.share), rows.map((r) => r.cpuMicros)].map(
      (xs) => median(xs) ?? Number.NaN,
    ) as [number, number, number];
    process.stdout.write(
      `${String(w).padStart(8)}  ${rate.toFixed(0).padStart(10)}  ${share.toFixed(2).padStart(18)}  ${cpu.toFixed(1).padStart(10)}  ${(cpu - w).toFixed(1).padStart(27)}\n`,
    );
  });
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
