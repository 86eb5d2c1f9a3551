import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/internal/clock.js';
import type { Dialect } from './dialects.js';

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
  options: { clock?: Clock } = {},
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
