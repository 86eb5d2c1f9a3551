import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSeedFile } from '../../bench/seed.js';
import { IMPORT_NODE_FLAGS, missingFlags } from '../../src/cli/relaunch.js';

const dir = mkdtempSync(join(tmpdir(), 'ids-relaunch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('missingFlags', () => {
  it('names the flags that neither the command line nor NODE_OPTIONS sets, whatever their value', () => {
    expect(missingFlags(['--max-semi-space-size=64'], [])).toEqual(['--max-semi-space-size=64']);
    expect(missingFlags(['--max-semi-space-size=64'], ['--import', 'tsx'], '--enable-source-maps')).toEqual([
      '--max-semi-space-size=64',
    ]);
    expect(missingFlags(['--max-semi-space-size=64'], ['--max-semi-space-size=32'])).toEqual([]);
    expect(missingFlags(['--max-semi-space-size=64'], [], ' --max-semi-space-size=128 ')).toEqual([]);
  });
});

/** The pids of the direct children of a process, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return tasks ? tasks.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('identity-service import in a Node of its own', () => {
  it('runs in a child started with its V8 flags; a signal to the command reaches it, and whole batches stay', async () => {
    const file = join(dir, 'seed.jsonl');
    await writeSeedFile(file, 400_000);
    const dbPath = join(dir, 'ids.db');
    const command = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'import', file, '--batch-size', '500'],
      { env: { ...process.env, DATABASE_URL: `sqlite:${dbPath}`, NODE_OPTIONS: '' }, stdio: 'ignore' },
    );
    const exited = once(command, 'exit');
    const pid = command.pid as number;

    let child: number | undefined;
    for (let i = 0; i < 300 && child === undefined; i++) {
      child = childrenOf(pid).find((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('import'));
      if (child === undefined) await sleep(50);
    }
    expect(child).toBeDefined();
    const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
    expect(argv).toEqual(expect.arrayContaining([...IMPORT_NODE_FLAGS, 'import', file]));

    // Let it write some batches, then stop the command as a supervisor would.
    const count = (table: 'customers' | 'identities') => {
      try {
        const db = new SQLite(dbPath, { readonly: true });
        try {
          return (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0; // no file, or not migrated yet
      }
    };
    for (let i = 0; i < 400 && count('customers') < 1_000; i++) await sleep(25);
    command.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    for (let i = 0; i < 100 && alive(child as number); i++) await sleep(20);
    expect(alive(child as number)).toBe(false);

    // Stopped between or inside a transaction: only whole batches of 500 customers are there.
    const customers = count('customers');
    expect(customers).toBeGreaterThan(0);
    expect(customers).toBeLessThan(200_000);
    expect(customers % 500).toBe(0);
    expect(count('identities')).toBe(customers * 2);
  }, 60_000);
});
