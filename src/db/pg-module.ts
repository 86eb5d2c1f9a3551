import { createRequire } from 'node:module';
import type PgModule from 'pg';

let loaded: typeof PgModule | undefined;

/**
 * node-postgres, loaded on first use rather than at start: a service on SQLite never needs it,
 * and loading it costs about 3 MB of heap (measured) that counts against the memory target.
 */
export function pgModule(): typeof PgModule {
  loaded ??= createRequire(import.meta.url)('pg') as typeof PgModule;
  return loaded;
}
