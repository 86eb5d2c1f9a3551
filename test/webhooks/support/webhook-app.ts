import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import type { Resolver } from '../../../src/features/webhooks/url-safety.js';
import type { Clock } from '../../../src/internal/clock.js';
import type { Services } from '../../../src/services.js';
import { ADMIN_KEY } from '../../helpers/build-app.js';
import type { Dialect } from '../../helpers/dialects.js';

export const admin = { 'x-api-key': ADMIN_KEY };

/** An app on a fresh database with webhook settings of the test's choosing. */
export async function buildWebhookApp(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: { clock?: Clock; resolveHost?: Resolver } = {},
) {
  const database = await dialect.create();
  const config = loadConfig({
    DATABASE_URL: database.url,
    BOOTSTRAP_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_POLL_INTERVAL_MS: '50',
    ...env,
  });
  const app = await buildApp(config, { ...options, logger: false });
  await app.ready();
  return {
    app,
    services: (app as FastifyInstance & { services: Services }).services,
    async close() {
      await app.close();
      await database.dispose();
    },
  };
}

export async function createWebhook(app: FastifyInstance, body: Record<string, unknown>) {
  const response = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: body });
  if (response.statusCode !== 201) throw new Error(`createWebhook: ${response.statusCode} ${response.body}`);
  return response.json<{
    id: string;
    secret: string;
    url: string;
    events: string[];
    enabled: boolean;
    created_at: string;
  }>();
}
