import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createKey } from '../helpers/factories.js';

// Every call of hashApiKey is recorded, the real function still answers.
const hashed = vi.hoisted(() => [] as string[]);
vi.mock('../../src/features/api-keys/api-keys.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/features/api-keys/api-keys.js')>();
  return {
    ...original,
    hashApiKey: (key: string) => {
      hashed.push(key);
      return original.hashApiKey(key);
    },
  };
});

/**
 * A presented key is only ever compared as a digest: no raw key of an earlier request is kept and
 * compared with `!==` (whose early exit tells a guesser how many leading characters were right).
 * What can be seen from outside is that every request's key is hashed, the same key included.
 */
describe.each(DIALECTS)('API key comparison on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('hashes the presented key on every request, even the same key twice in a row', async () => {
    const runtime = (await createKey(t.app, 'runtime')).key;
    const get = (key: string) => t.app.inject({ url: '/v1/customers', headers: { 'x-api-key': key } });
    hashed.length = 0;
    expect((await get(runtime)).statusCode).toBe(200);
    expect((await get(runtime)).statusCode).toBe(200);
    expect((await get(runtime)).statusCode).toBe(200);
    expect(hashed.filter((key) => key === runtime)).toHaveLength(3);
  });

  it('tells apart keys that differ only in their last character', async () => {
    const get = (key: string) => t.app.inject({ url: '/v1/customers', headers: { 'x-api-key': key } });
    const almost = `${ADMIN_KEY.slice(0, -1)}${ADMIN_KEY.endsWith('9') ? '8' : '9'}`;
    expect((await get(ADMIN_KEY)).statusCode).toBe(200);
    expect((await get(almost)).statusCode).toBe(401);
    expect((await get(ADMIN_KEY)).statusCode).toBe(200);
  });
});
