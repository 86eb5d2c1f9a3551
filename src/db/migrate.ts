import { type Kysely, type Migration, type MigrationResult, Migrator } from 'kysely';
import type { Database } from './database.js';
import { classifyDbError } from './errors.js';
import * as initial from './migrations/2026-11-25-001-initial.js';
import * as processedChatUpdates from './migrations/2026-12-04-001-processed-chat-updates.js';
import * as identitiesThatChange from './migrations/2026-12-04-002-identities-that-change.js';
import * as webhooks from './migrations/2026-12-04-003-webhooks.js';
import * as linkRequests from './migrations/2026-12-07-001-link-requests.js';
import * as privacy from './migrations/2026-12-07-002-privacy.js';
import * as searchNames from './migrations/2026-12-07-003-search-names.js';
import * as linkRequestPrivacy from './migrations/2026-12-07-004-link-request-privacy.js';

/** Listed statically so that the compiled service needs no migration folder on disk. */
const migrations: Record<string, Migration> = {
  '2026-11-25-001-initial': initial,
  '2026-12-04-001-processed-chat-updates': processedChatUpdates,
  '2026-12-04-002-identities-that-change': identitiesThatChange,
  '2026-12-04-003-webhooks': webhooks,
  '2026-12-07-001-link-requests': linkRequests,
  '2026-12-07-002-privacy': privacy,
  '2026-12-07-003-search-names': searchNames,
  '2026-12-07-004-link-request-privacy': linkRequestPrivacy,
};

/**
 * Brings the schema up to date. Safe to run twice and from several replicas at once: Kysely
 * records what ran and holds a lock (an advisory lock on PostgreSQL) while it migrates.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResult[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return results ?? [];
    // Kysely takes no migration lock on SQLite, nor one transaction for all: a process starting at
    // the same moment on a fresh file (the server and the CLI) may record the same migration
    // first. Our migrations are idempotent, so the next pass goes on from there. Each lost race
    // means the other process recorded at least one more, hence at most one pass per migration.
    if (attempt > Object.keys(migrations).length || !lostMigrationRace(error)) throw error;
  }
}

function lostMigrationRace(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (classifyDbError(error) === 'unique' || code === 'SQLITE_BUSY') return true;
  // A migration checks before it adds a column or a table, but another process may add it between
  // the check and the statement: the next pass finds it there and goes on.
  return (
    code === 'SQLITE_ERROR' && typeof message === 'string' && /^duplicate column name|already exists$/.test(message)
  );
}
