import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashesEqual } from '../../src/features/claims/claims.js';
import { isApiPath } from '../../src/http/plugins/dashboard.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { sqlite } from '../helpers/dialects.js';

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of String(header).split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

function expectStrictPolicy(header: unknown) {
  const policy = directives(header);
  expect(policy.get('default-src')).toEqual(["'self'"]);
  expect(policy.get('script-src')).toEqual(["'self'"]);
  expect(policy.get('script-src-attr')).toEqual(["'none'"]);
  expect(policy.get('object-src')).toEqual(["'none'"]);
  expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  expect(String(header)).not.toMatch(/unsafe-inline|unsafe-eval|https:|\*/);
  expect(policy.has('upgrade-insecure-requests')).toBe(false);
}

/** The headers of the answer to raw bytes sent on a socket (requests Node itself refuses). */
function rawAnswerHeaders(port: number, text: string): Promise<{ status: number; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => {
      const [statusLine = '', ...lines] = answer.slice(0, answer.indexOf('\r\n\r\n')).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const at = line.indexOf(':');
        headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers });
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

const API_HEADERS = [
  'content-security-policy',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'strict-transport-security',
  'cross-origin-resource-policy',
];

/** Every <script> in the page loads a file: no inline code that a strict policy would have to allow. */
function expectNoInlineScripts(html: string) {
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  for (const [, attributes, body] of scripts) {
    expect(attributes).toMatch(/\bsrc=/);
    expect(body?.trim()).toBe('');
  }
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
}

describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(sqlite);
  });
  afterAll(() => t.close());

  it('serves the dashboard page under a strict policy with no inline scripts', async () => {
    const page = await t.app.inject({ url: '/' });
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expectStrictPolicy(page.headers['content-security-policy']);
    expectNoInlineScripts(page.body);
  });

  it('serves /docs under the same strict policy, and the page still loads its scripts from our origin', async () => {
    const page = await t.app.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expectStrictPolicy(page.headers['content-security-policy']);
    expectNoInlineScripts(page.body);
    const sources = [...page.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      const url = new URL(src, 'http://localhost/docs/').pathname;
      const asset = await t.app.inject({ url });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['content-type']).toMatch(/javascript/);
    }
    // The initializer points Swagger UI at our own spec and at no online validator.
    const init = await t.app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain('/openapi.json');
    expect(init.body).not.toContain('validator.swagger.io');
  });

  it("sends data's share of helmet's headers on API answers, errors included, and a policy that allows nothing", async () => {
    const requests = [
      { url: '/v1/customers', headers: t.admin },
      { url: '/v1/customers' }, // 401
      { url: '/v1/customers/lookup/identity?channel=telegram&external_id=404404', headers: t.admin }, // 404
      { url: '/v1/no-such-route', headers: t.admin },
      { url: '/healthz' },
      { url: '/readyz?verbose=1' },
      { url: '/metrics' },
      { url: '/openapi.json' },
    ];
    for (const request of requests) {
      const response = await t.app.inject(request);
      expect(response.statusCode, request.url).toBeLessThan(500);
      expect(response.headers['content-security-policy'], request.url).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=/);
      expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
      // Headers that only mean something for a page a browser renders.
      for (const name of [
        'cross-origin-opener-policy',
        'origin-agent-cluster',
        'x-dns-prefetch-control',
        'x-xss-protection',
      ]) {
        expect(response.headers[name], `${request.url} ${name}`).toBeUndefined();
      }
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('sends the same headers on the 400 and 431 that Node and the router answer before any hook', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as { port: number }).port;
    const ordinary = await t.app.inject({ url: '/healthz' });
    const refused = [
      await rawAnswerHeaders(port, `GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Filler: ${'h'.repeat(20_000)}\r\n\r\n`),
      await rawAnswerHeaders(port, `GET /v1/customers?q=${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      await rawAnswerHeaders(port, 'NOT AN HTTP REQUEST\r\n\r\n'),
    ];
    expect(refused.map((r) => r.status)).toEqual([431, 431, 400]);
    const badUrl = await t.app.inject({ url: '/v1/customers/%zz', headers: t.admin });
    expect(badUrl.statusCode).toBe(400);
    for (const answer of [...refused.map((r) => r.headers), badUrl.headers]) {
      for (const name of API_HEADERS) expect(answer[name], name).toBe(ordinary.headers[name]);
      expect(answer['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("sends helmet's whole set on pages: the dashboard, its assets, /docs", async () => {
    for (const url of ['/', '/docs', '/docs/static/swagger-initializer.js']) {
      const response = await t.app.inject({ url });
      // The dashboard's page is 503 until `npm run build` has built it (as in CI's unit tests): a page still.
      expect(response.headers['content-type'], url).toMatch(/text\/html|javascript/);
      expectStrictPolicy(response.headers['content-security-policy']);
      expect(response.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=/);
    }
  });

  it('tells data paths from pages by the path alone', () => {
    for (const url of [
      '/v1/customers',
      '/v1/customers?email=a',
      '/healthz',
      '/healthz?x=1',
      '/readyz',
      '/metrics',
      '/openapi.json',
      '/v1',
    ]) {
      expect(isApiPath(url), url).toBe(true);
    }
    for (const url of [
      '/',
      '/docs',
      '/docs/json',
      '/docs/static/index.css',
      '/v1x/a',
      '/healthzz',
      '/index.html',
      '/assets/app.js?v1/',
    ]) {
      expect(isApiPath(url), url).toBe(false);
    }
  });

  it('compares code hashes with a constant-time comparison that refuses other lengths', () => {
    const a = 'ab'.repeat(32);
    expect(hashesEqual(a, a)).toBe(true);
    expect(hashesEqual(a, `${'ab'.repeat(31)}ac`)).toBe(false);
    expect(hashesEqual(a, 'ab')).toBe(false);
    expect(hashesEqual(a, '')).toBe(false);
  });
});
