import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';

/** Why a backup was not made; the message is for the operator. */
export class BackupError extends Error {
  override name = 'BackupError';
}

export interface BackupResult {
  file: string;
  pages: number;
  bytes: number;
  ms: number;
}

/** How long the copy waits for a lock another process holds (only a non-WAL database has such locks for readers). */
const BUSY_WAIT_MS = 10_000;
/** SQLite copies at most this many pages a step: all of them, so that no write in between restarts the copy. */
const ALL_PAGES = 0x7fffffff;

/**
 * An online, consistent copy of a SQLite database while servers use it: SQLite's backup API
 * (better-sqlite3's `backup()`) copying every page in one step, which is one read transaction:
 * in WAL mode writers go on meanwhile, and the copy is the database as of the step's start.
 * Copied in steps, every write of another connection would restart the copy, and a busy server
 * could keep it from ever finishing. The copy is written next to `target` under another name
 * and renamed when complete, so `target` is never half a database; it is switched to the
 * rollback journal, so that it is one self-contained file.
 */
export async function backupSqlite(source: string, target: string, options: { force: boolean }): Promise<BackupResult> {
  if (source === ':memory:')
    throw new BackupError('DATABASE_URL is an in-memory database: there is nothing to back up');
  if (!existsSync(source)) throw new BackupError(`no database at ${source} (DATABASE_URL)`);
  const file = resolve(target);
  if (file === resolve(source)) throw new BackupError('the backup file is the database itself');
  if (existsSync(file) && !options.force) {
    throw new BackupError(`${target} already exists; pass --force to replace it`);
  }
  if (!existsSync(dirname(file))) throw new BackupError(`the directory ${dirname(file)} does not exist`);
  const partial = join(dirname(file), `.${basename(file)}.${process.pid}.partial`);
  const started = performance.now();
  const db = new SQLite(source, { readonly: true, fileMustExist: true, timeout: BUSY_WAIT_MS });
  let pages = 0;
  try {
    const progress = await db.backup(partial, { progress: () => ALL_PAGES });
    pages = progress.totalPages;
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
  try {
    const copy = new SQLite(partial);
    try {
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new BackupError(`the copy failed its check: ${String(check)}`);
    } finally {
      copy.close();
    }
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return { file, pages, bytes: statSync(file).size, ms: performance.now() - started };
}
