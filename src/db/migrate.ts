import { type Kysely, type Migration, type MigrationResult, Migrator } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/2026-11-25-001-initial.js';

/** Listed statically so that the compiled service needs no migration folder on disk. */
const migrations: Record<string, Migration> = {
  '2026-11-25-001-initial': initial,
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
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return results ?? [];
}
