import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';

// One version, shown wherever a version shows: package.json (the source), the changelog's latest
// release, /v1/service-info and the OpenAPI document.
const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
const changelog = readFileSync(new URL('CHANGELOG.md', root), 'utf8');

describe('the version', () => {
  it('is a semantic version', () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("is the changelog's latest release, dated, below an Unreleased section", () => {
    const releases = [...changelog.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)];
    expect(releases[0]?.[1]).toBe('Unreleased');
    expect(releases[1]?.[1]).toBe(pkg.version);
    expect(releases[1]?.[2]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe.each(DIALECTS)('the version the service shows on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is in /v1/service-info', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/service-info', headers: t.admin });
    expect(res.statusCode).toBe(200);
    expect(res.json().version).toBe(pkg.version);
  });

  it('is the OpenAPI document’s info.version', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.json().info.version).toBe(pkg.version);
  });
});
