import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Clock, Random } from '../../src/internal/clock.js';
import { createSharedDatabase, type Dialect } from './dialects.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface TestApp {
  app: FastifyInstance;
  url: string;
  /** Headers with the bootstrap admin key. */
  admin: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A whole application on a fresh database of the given dialect, with the admin key
 * ADMIN_KEY. `env` overrides configuration as the environment would.
 */
export async function buildTestApp(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: { clock?: Clock; random?: Random } = {},
): Promise<TestApp> {
  const database = await dialect.create();
  const config = loadConfig({
    DATABASE_URL: database.url,
    BOOTSTRAP_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await buildApp(config, { ...options, logger: false });
  await app.ready();
  return {
    app,
    url: database.url,
    admin: { 'x-api-key': ADMIN_KEY },
    async close() {
      await app.close();
      await database.dispose();
    },
  };
}

/**
 * `count` apps on one fresh database they share (a file for SQLite), as replicas of the service
 * would be. Started one after the other, so that every start after the first runs the
 * migrations again on a database that has them.
 */
export async function buildReplicas(
  dialect: Dialect,
  count = 2,
): Promise<{ apps: FastifyInstance[]; close(): Promise<void> }> {
  const database = await createSharedDatabase(dialect);
  const config = loadConfig({ DATABASE_URL: database.url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' });
  const apps: FastifyInstance[] = [];
  for (let i = 0; i < count; i++) {
    const app = await buildApp(config, { logger: false });
    await app.ready();
    apps.push(app);
  }
  return {
    apps,
    async close() {
      for (const app of apps) await app.close();
      await database.dispose();
    },
  };
}
