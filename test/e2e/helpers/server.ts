import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import type { Dialect } from '../../helpers/dialects.js';

export const E2E_ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';
export const E2E_BOT_USERNAME = 'AcmeSupportBot';

export interface RunningServer {
  app: FastifyInstance;
  baseUrl: string;
  /** Calls our API as any client would, with the given key (the bootstrap admin key by default). */
  api(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

/** A temporary database of the dialect: an SQLite file in a temp dir, or a fresh PostgreSQL database. */
async function createDatabase(dialect: Dialect): Promise<{ url: string; dispose(): Promise<void> }> {
  if (dialect.name !== 'sqlite') return dialect.create();
  const dir = await mkdtemp(join(tmpdir(), 'identity-e2e-'));
  return { url: `sqlite:${join(dir, 'e2e.sqlite')}`, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** The whole application listening on 127.0.0.1, on a port the system picks; `env` adds settings. */
export async function startServer(dialect: Dialect, env: Record<string, string> = {}): Promise<RunningServer> {
  const database = await createDatabase(dialect);
  const config = loadConfig({
    DATABASE_URL: database.url,
    BOOTSTRAP_API_KEY: E2E_ADMIN_KEY,
    TELEGRAM_BOT_USERNAME: E2E_BOT_USERNAME,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await buildApp(config, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    async api(method, path, body, key = E2E_ADMIN_KEY) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
    async close() {
      await app.close();
      await database.dispose();
    },
  };
}
