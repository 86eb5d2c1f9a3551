import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

interface FastApiError {
  type: string;
  loc: (string | number)[];
  msg: string;
}

describe.each(DIALECTS)("FastAPI's error shapes on $name", (dialect) => {
  let t: TestApp;
  let customerId: string;
  let identityId: string;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { BODY_LIMIT_BYTES: '4096' });
    customerId = (await createCustomer(t.app)).id;
    identityId = (await createIdentity(t.app, customerId, { channel: 'telegram', external_id: '777' })).id;
  });
  afterAll(() => t.close());

  const send = (method: 'POST' | 'PATCH', url: string, payload: string | object) =>
    t.app.inject({
      method,
      url,
      headers: { ...t.admin, 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const firstError = async (response: Awaited<ReturnType<typeof send>>) => {
    expect(response.statusCode, response.body).toBe(422);
    const body = response.json<{ detail: FastApiError[] }>();
    expect(Array.isArray(body.detail)).toBe(true);
    for (const e of body.detail) {
      expect(typeof e.msg).toBe('string');
      expect(typeof e.type).toBe('string');
    }
    return body.detail[0] as FastApiError;
  };

  describe('a body that is not JSON', () => {
    it.each([
      ['{"email": }', 10],
      ['{not json', 1],
      ['hello', 0],
      ['{"email": "a@b.co",}', 19],
    ])('%j is json_invalid at its offset %i', async (text, offset) => {
      const error = await firstError(await send('POST', '/v1/customers', text));
      expect(error).toMatchObject({ type: 'json_invalid', loc: ['body', offset], msg: 'JSON decode error' });
    });

    it('is read as JSON whatever its content type', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: { ...t.admin, 'content-type': 'text/plain' },
        payload: '{"email": ',
      });
      expect((await firstError(response)).type).toBe('json_invalid');
    });

    it('an empty body is a missing body', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/v1/customers', headers: t.admin });
      expect(await firstError(response)).toMatchObject({ type: 'missing', loc: ['body'] });
    });
  });

  describe('wrong types', () => {
    it.each([
      ['POST', '/v1/customers', { email: 42 }, ['body', 'email'], 'string_type'],
      ['POST', '/v1/customers', { email: null }, ['body', 'email'], 'string_type'],
      ['POST', '/v1/customers', { email: 'a@b.co', metadata: 'x' }, ['body', 'metadata'], 'dict_type'],
      ['POST', '/v1/customers', { email: 'a@b.co', metadata: [1] }, ['body', 'metadata'], 'dict_type'],
      ['POST', '/v1/customers', { email: 'a@b.co', name: 5 }, ['body', 'name'], 'string_type'],
      // pydantic's lax mode reads "yes" and 1 as booleans; a list or an object is a bool_type for it too.
      ['PATCH', 'identity', { verified: [] }, ['body', 'verified'], 'bool_type'],
      ['PATCH', 'identity', { verified: { a: 1 } }, ['body', 'verified'], 'bool_type'],
      ['PATCH', 'identity', { verified: 'maybe' }, ['body', 'verified'], 'bool_parsing'],
      ['PATCH', 'identity', { verified: 2 }, ['body', 'verified'], 'bool_parsing'],
      ['PATCH', 'identity', { metadata: true }, ['body', 'metadata'], 'dict_type'],
      ['PATCH', 'identity', { display_name: [] }, ['body', 'display_name'], 'string_type'],
      ['POST', 'identities', { channel: 5, external_id: '1' }, ['body', 'channel'], 'string_type'],
      ['POST', 'identities', { channel: 'telegram', external_id: 12345 }, ['body', 'external_id'], 'string_type'],
      ['POST', 'claim', { channel: 'telegram', external_id: '1', code: 123456 }, ['body', 'code'], 'string_type'],
    ])('%s %s %j → %j %s', async (method, where, payload, loc, type) => {
      const url =
        where === 'identity'
          ? `/v1/customers/${customerId}/identities/${identityId}`
          : where === 'identities'
            ? `/v1/customers/${customerId}/identities`
            : where === 'claim'
              ? '/v1/customers/identities/claim'
              : where;
      const error = await firstError(await send(method as 'POST', url, payload));
      expect(error).toMatchObject({ loc, type });
    });
  });

  describe('lengths', () => {
    it('string_too_long names its limit', async () => {
      const error = await firstError(
        await send('POST', '/v1/customers', { email: `${randomUUID()}@example.com`, name: 'n'.repeat(256) }),
      );
      expect(error).toMatchObject({
        loc: ['body', 'name'],
        type: 'string_too_long',
        msg: 'String should have at most 255 characters',
      });
    });

    it('string_too_short names its limit', async () => {
      const error = await firstError(await send('POST', '/v1/api-keys', { name: '', scope: 'admin' }));
      expect(error).toMatchObject({
        loc: ['body', 'name'],
        type: 'string_too_short',
        msg: 'String should have at least 1 character',
      });
    });

    it('missing fields are located and typed missing', async () => {
      const error = await firstError(await send('POST', `/v1/customers/${customerId}/identities`, { channel: 'x' }));
      expect(error).toMatchObject({ loc: ['body', 'external_id'], type: 'missing', msg: 'Field required' });
    });
  });

  describe('extra fields and odd bodies', () => {
    it('ignores fields it does not know, as pydantic does by default', async () => {
      const response = await send('POST', '/v1/customers', {
        email: `${randomUUID()}@example.com`,
        id: randomUUID(),
        created_at: '1999-01-01T00:00:00.000Z',
        admin: true,
      });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).not.toHaveProperty('admin');
      expect(body.created_at).not.toBe('1999-01-01T00:00:00.000Z');
    });

    it.each(['null', '[]', '"text"', '42'])('a JSON %s instead of an object is a 422, not a 500', async (text) => {
      const error = await firstError(await send('POST', '/v1/customers', text));
      expect(error.loc[0]).toBe('body');
    });

    it('a body over the limit is a 413', async () => {
      const response = await send('POST', '/v1/customers', {
        email: `${randomUUID()}@example.com`,
        metadata: { blob: 'x'.repeat(8000) },
      });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toEqual({ detail: expect.any(String) });
    });
  });

  describe('other errors', () => {
    it('an unknown route is a 404 with a detail', async () => {
      const response = await t.app.inject({ url: '/v1/nothing-here', headers: t.admin });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ detail: expect.any(String) });
    });

    it('never shows a stack trace', async () => {
      const responses = await Promise.all([
        send('POST', '/v1/customers', '{"email": "\\x"}'),
        send('PATCH', `/v1/customers/${customerId}`, { email: 'not-an-email' }),
        t.app.inject({ url: '/v1/customers?limit=1e999', headers: t.admin }),
        t.app.inject({ url: `/v1/customers/${'f'.repeat(200)}`, headers: t.admin }),
      ]);
      for (const response of responses) {
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        expect(response.body).not.toMatch(/\bat .+:\d+:\d+|node_modules|stack/);
      }
    });
  });
});
