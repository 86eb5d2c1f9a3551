import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';

interface Operation {
  responses: Record<string, { content?: Record<string, unknown> }>;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
}

/** Every route of CONTRACT.md: method, path, success status, and the errors it must document. */
const CONTRACT: [string, string, string, string[]][] = [
  ['post', '/v1/customers', '201', ['401', '403', '409', '422']],
  ['get', '/v1/customers', '200', ['401', '422']],
  ['get', '/v1/customers/{customer_id}', '200', ['401', '404', '410', '422']],
  ['patch', '/v1/customers/{customer_id}', '200', ['401', '403', '404', '422']],
  ['delete', '/v1/customers/{customer_id}', '204', ['401', '403', '404', '422']],
  ['get', '/v1/customers/lookup/identity', '200', ['401', '404', '422']],
  ['get', '/v1/customers/{customer_id}/identities', '200', ['401', '404', '422']],
  ['post', '/v1/customers/{customer_id}/identities', '201', ['401', '403', '404', '409', '422']],
  ['patch', '/v1/customers/{customer_id}/identities/{identity_id}', '200', ['401', '403', '404', '422']],
  ['delete', '/v1/customers/{customer_id}/identities/{identity_id}', '204', ['401', '403', '404', '422']],
  ['post', '/v1/customers/{customer_id}/identities/{identity_id}/claim-code', '201', ['401', '403', '404', '409']],
  ['post', '/v1/customers/identities/claim', '200', ['400', '401', '422']],
  ['post', '/v1/customers/{customer_id}/identities/{identity_id}/aliases', '201', ['401', '403', '404', '409', '422']],
  ['delete', '/v1/customers/{customer_id}/identities/{identity_id}/aliases/{external_id}', '204', ['401', '404']],
  ['post', '/v1/customers/{customer_id}/identities/{identity_id}/move', '200', ['401', '403', '404', '409', '422']],
  ['post', '/v1/customers/{customer_id}/merge', '200', ['401', '403', '404', '409', '410', '422']],
  ['get', '/v1/merges', '200', ['401', '403', '422']],
  ['post', '/v1/merges/{merge_id}/undo', '200', ['401', '403', '404', '409']],
  ['post', '/v1/api-keys', '201', ['401', '403', '422']],
  ['get', '/v1/api-keys', '200', ['401', '403']],
  ['delete', '/v1/api-keys/{key_id}', '204', ['401', '403', '404']],
  ['get', '/healthz', '200', []],
  ['get', '/readyz', '200', ['503']],
];

describe.each(DIALECTS)('OpenAPI, docs and health on $name', (dialect) => {
  let t: TestApp;
  let doc: Document;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
    const response = await t.app.inject({ url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    doc = response.json<Document>();
  });
  afterAll(() => t.close());

  it('is OpenAPI 3.1 with the X-Api-Key security scheme', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const schemes = Object.values(doc.components.securitySchemes);
    expect(schemes).toContainEqual({ type: 'apiKey', in: 'header', name: 'X-Api-Key' });
  });

  it.each(CONTRACT)('documents %s %s with %s and its errors', (method, path, success, errors) => {
    const operation = doc.paths[path]?.[method];
    expect(operation, `${method} ${path}`).toBeDefined();
    const statuses = Object.keys(operation?.responses ?? {});
    expect(statuses).toContain(success);
    for (const status of errors) expect(statuses).toContain(status);
    if (path.startsWith('/v1/')) {
      const schemeName = Object.keys(doc.components.securitySchemes)[0] as string;
      expect(operation?.security).toEqual([{ [schemeName]: [] }]);
    } else {
      expect(operation?.security).toBeUndefined();
    }
  });

  it('documents who has a conflicting identity (409), where a merged customer went (410), and verified_via', () => {
    const text = JSON.stringify(doc);
    const create = doc.paths['/v1/customers/{customer_id}/identities']?.post;
    expect(JSON.stringify(create?.responses['409'])).toContain('with whom');
    expect(JSON.stringify(doc.paths['/v1/customers/{customer_id}']?.get?.responses['410'])).toContain('merged into');
    expect(text).toContain('merged_into');
    expect(text).toContain('"identity_id"');
    expect(JSON.stringify(doc.paths['/v1/customers/lookup/identity']?.get?.responses['200'])).toContain('verified_via');
  });

  it('describes path, query and body parameters from the route schemas', () => {
    const lookup = doc.paths['/v1/customers/lookup/identity']?.get;
    expect(lookup?.parameters?.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
      expect.arrayContaining(['channel', 'external_id', 'instance_id']),
    );
    expect(doc.paths['/v1/customers/{customer_id}/identities']?.post?.requestBody).toBeDefined();
    const get = doc.paths['/v1/customers/{customer_id}']?.get;
    expect(get?.parameters).toContainEqual(expect.objectContaining({ name: 'customer_id', in: 'path' }));
    expect(JSON.stringify(doc.paths['/v1/customers/lookup/identity']?.get?.responses['200'])).toContain(
      'customer_email',
    );
  });

  it('serves /docs as HTML whose assets all load from our own origin', async () => {
    const page = await t.app.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    for (const asset of assets) {
      expect(asset, 'no CDN').not.toMatch(/^(https?:)?\/\//);
      const url = asset.startsWith('/') ? asset : `/docs/${asset.replace(/^\.\//, '')}`;
      const response = await t.app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body.length).toBeGreaterThan(0);
    }
  });

  it('answers /healthz and /readyz without a key', async () => {
    const health = await t.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready' });
  });
});
