import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';

// The guides match the code: every route of the OpenAPI document is in docs/api.md, every route
// docs/api.md lists exists, and the README and guides link only to files of this repository.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every chat channel on, so that their webhooks are in the document too. */
const ALL_CHANNELS = {
  TELEGRAM_BOT_TOKEN: '123456:docs-test-token',
  TELEGRAM_WEBHOOK_SECRET: 'docs-test-secret-of-at-least-32-characters',
  SLACK_SIGNING_SECRET: 'docs-test-signing-secret',
  WHATSAPP_VERIFY_TOKEN: 'docs-test-verify-token',
  WHATSAPP_APP_SECRET: 'docs-test-app-secret',
  DISCORD_PUBLIC_KEY: 'a'.repeat(64),
};

describe.each(DIALECTS)('docs/api.md against /openapi.json on $name', (dialect) => {
  let t: TestApp;
  let routes: string[];
  const api = read('docs/api.md');

  beforeAll(async () => {
    t = await buildTestApp(dialect, ALL_CHANNELS);
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
  });
  afterAll(async () => {
    await t.close();
  });

  it('names every route of the OpenAPI document, as `METHOD /path`', () => {
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter((route) => !api.includes(`\`${route}\``));
    expect(missing, 'routes of /openapi.json that docs/api.md does not document').toEqual([]);
  });

  it('lists no route the service does not have', async () => {
    const listed = [...api.matchAll(/`((?:GET|POST|PUT|PATCH|DELETE) \/[^`?\s]*)`/g)].map((m) => m[1] as string);
    expect(listed.length).toBeGreaterThan(20);
    const known = new Set(routes);
    // Pages and documents kept out of the OpenAPI document (/docs, /openapi.json, /metrics, /)
    // must still answer.
    const hidden = [...new Set(listed.filter((route) => !known.has(route)))];
    for (const route of hidden) {
      const [method, url] = route.split(' ') as [string, string];
      expect(method, `${route} is not in /openapi.json`).toBe('GET');
      const res = await t.app.inject({ method: 'GET', url });
      // The dashboard's page is a 503 until `npm run build` has built it (as in CI's unit tests):
      // served all the same, so the route exists.
      const served = res.statusCode < 400 || (url === '/' && res.statusCode === 503);
      expect(served, `${route} answers (${res.statusCode})`).toBe(true);
    }
  });
});

describe('the README and the guides', () => {
  const guides = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  const documents = ['README.md', 'CHANGELOG.md', ...guides];

  it('has the guides the README maps', () => {
    for (const guide of ['api', 'channels', 'operations', 'client', 'architecture']) {
      expect(guides).toContain(`docs/${guide}.md`);
    }
  });

  it('keeps the README under 20 KB', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThanOrEqual(20 * 1024);
  });

  it.each(documents)('%s links only to files of this repository that exist', (document) => {
    const text = read(document);
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    const broken = links
      .filter((link) => !/^(https?:|mailto:|#)/.test(link))
      .filter((link) => {
        const target = resolve(root, dirname(document), link.split('#')[0] as string);
        return !target.startsWith(`${root}/`) || !existsSync(target);
      });
    expect(broken).toEqual([]);
    // The local service's own pages are fine to point at; nothing else outside the repository.
    const outside = links.filter((link) => /^https?:/.test(link) && !link.startsWith('http://localhost'));
    expect(outside.filter((link) => !ALLOWED_SITES.some((site) => link.startsWith(site)))).toEqual([]);
  });
});

/** Public references a reader needs (the platforms' own setup pages, formats); never private paths. */
const ALLOWED_SITES = [
  'https://keepachangelog.com/',
  'https://semver.org/',
  'https://core.telegram.org/',
  'https://api.slack.com/',
  'https://developers.facebook.com/',
  'https://www.standardwebhooks.com/',
  'https://grammy.dev',
  'https://discord.com/developers/',
];
