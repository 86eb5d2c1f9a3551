import { describe, expect, it } from 'vitest';
import { parseBenchArgs, SCENARIOS } from '../../bench/args.js';

describe('npm run bench: its options', () => {
  it('runs every scenario by default, or the ones asked for, in that order', () => {
    expect(parseBenchArgs([]).scenarios).toEqual([...SCENARIOS]);
    expect(parseBenchArgs(['--scenarios', 'lookup_hit, healthz']).scenarios).toEqual(['lookup_hit', 'healthz']);
  });

  it('refuses an unknown scenario, one listed twice, and a database that is not PostgreSQL', () => {
    expect(() => parseBenchArgs(['--scenarios', 'healthz,lookup'])).toThrow(/^unknown scenario\(s\): lookup\n/);
    expect(() => parseBenchArgs(['--scenarios', 'healthz,lookup_hit,healthz'])).toThrow(
      /^scenario\(s\) listed twice: healthz\n/,
    );
    expect(() => parseBenchArgs(['--scenarios', 'lookup_hit_paced'])).toThrow(/^lookup_hit_paced asks for half/);
    expect(() => parseBenchArgs(['--scenarios', 'lookup_hit_paced,lookup_hit'])).toThrow(
      /^lookup_hit_paced asks for half/,
    );
    expect(parseBenchArgs(['--scenarios', 'lookup_hit,healthz,lookup_hit_paced']).scenarios).toHaveLength(3);
    expect(() => parseBenchArgs(['--database', 'mysql://x'])).toThrow(/^--database must be a postgres:\/\/ URL/);
    expect(() => parseBenchArgs(['--rounds', '0'])).toThrow(/^--rounds must be a positive number/);
  });

  it('compares with FastAPI on SQLite only, and only when lookup hits are measured (in turns with them)', () => {
    expect(parseBenchArgs(['--compare-fastapi']).compareFastApi).toBe(true);
    expect(parseBenchArgs(['--compare-fastapi', '--scenarios', 'lookup_hit']).scenarios).toEqual(['lookup_hit']);
    expect(() => parseBenchArgs(['--compare-fastapi', '--database', 'postgres://x/y'])).toThrow(
      /^--compare-fastapi runs on the SQLite file only/,
    );
    expect(() => parseBenchArgs(['--compare-fastapi', '--scenarios', 'healthz,lookup_miss'])).toThrow(
      /^--compare-fastapi measures FastAPI's lookups in turns with lookup_hit/,
    );
  });

  it("compares with Node's bare HTTP server on either database, in turns with lookup hits", () => {
    expect(parseBenchArgs([]).compareNode).toBe(false);
    expect(parseBenchArgs(['--compare-node', '--database', 'postgres://x/y']).compareNode).toBe(true);
    expect(() => parseBenchArgs(['--compare-node', '--scenarios', 'healthz'])).toThrow(
      /^--compare-node measures its requests in turns with lookup_hit/,
    );
  });
});
