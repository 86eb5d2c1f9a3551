import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dashboardPlugin from '../../src/http/plugins/dashboard.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';

describe.each(DIALECTS)('the dashboard never shadows the API on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('leaves /v1, /healthz, /readyz, /openapi.json, /docs and /metrics to their owners', async () => {
    const unknownApi = await t.app.inject({ url: '/v1/no-such-route', headers: t.admin });
    expect(unknownApi.statusCode).toBe(404);
    expect(unknownApi.json()).toEqual({ detail: 'Not Found' });
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/openapi.json' })).json()).toMatchObject({ openapi: '3.1.0' });
    expect((await t.app.inject({ url: '/metrics/nothing' })).headers['content-type']).toContain('application/json');
    const customers = await t.app.inject({ url: '/v1/customers', headers: t.admin });
    expect(customers.json()).toMatchObject({ items: [] });
  });

  it('answers a page path with HTML (the app, or how to build it)', async () => {
    const page = await t.app.inject({ url: '/customers/3fa85f64-5717-4562-b3fc-2c963f66afa6' });
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/<script>|<style>|\sstyle=/);
  });
});

describe('the dashboard plugin', () => {
  let built: string;
  let empty: string;
  beforeAll(async () => {
    built = await mkdtemp(join(tmpdir(), 'dashboard-built-'));
    empty = await mkdtemp(join(tmpdir(), 'dashboard-empty-'));
    await writeFile(join(built, 'index.html'), '<!doctype html><title>app</title><script type="module" src="/app.js">');
    await writeFile(join(built, 'app.js'), 'export {};');
  });
  afterAll(async () => {
    await rm(built, { recursive: true, force: true });
    await rm(empty, { recursive: true, force: true });
  });

  async function appWith(root: string) {
    const app = Fastify({ logger: false });
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));
    app.get('/v1/customers', async () => ({ items: [] }));
    await app.register(dashboardPlugin, { root });
    await app.ready();
    return app;
  }

  it('serves the built files, and index.html for page paths that are not files', async () => {
    const app = await appWith(built);
    try {
      for (const url of ['/', '/customers/abc', '/customers/abc?tab=history']) {
        const response = await app.inject({ url });
        expect(response.statusCode, url).toBe(200);
        expect(response.body, url).toContain('<title>app</title>');
      }
      expect((await app.inject({ url: '/app.js' })).body).toBe('export {};');
      expect((await app.inject({ url: '/favicon.ico' })).statusCode).toBe(404);
      expect((await app.inject({ url: '/v1/customers' })).json()).toEqual({ items: [] });
      for (const url of ['/v1/unknown', '/docs/missing', '/metrics/x', '/healthz/x']) {
        expect((await app.inject({ url })).json(), url).toEqual({ detail: 'Not Found' });
      }
    } finally {
      await app.close();
    }
  });

  it('says how to build the dashboard when dist/dashboard is missing', async () => {
    const app = await appWith(empty);
    try {
      for (const url of ['/', '/customers/abc']) {
        const response = await app.inject({ url });
        expect(response.statusCode, url).toBe(503);
        expect(response.headers['content-type']).toContain('text/html');
        expect(response.body).toContain('npm run build');
      }
      expect((await app.inject({ url: '/v1/unknown' })).json()).toEqual({ detail: 'Not Found' });
    } finally {
      await app.close();
    }
  });
});
