import { connect } from 'node:net';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? { leaf: true } : { n: nested(depth - 1) });

/** Sends raw bytes to a listening server and returns everything it answers before closing. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(text);
  });
}

describe.each(DIALECTS)('input limits on $name', (dialect) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(() => t.close());

  it('refuses a body over 64 KiB with 413 and changes nothing', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...t.admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'big@example.com', name: 'x'.repeat(70_000) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ detail: expect.any(String) });
    const list = await t.app.inject({ url: '/v1/customers?email=big@example.com', headers: t.admin });
    expect(list.json().items).toEqual([]);
  });

  it('refuses a body over 64 KiB over a real socket too', async () => {
    const body = JSON.stringify({ email: 'big2@example.com', metadata: { blob: 'y'.repeat(80_000) } });
    const response = await fetch(`http://127.0.0.1:${port}/v1/customers`, {
      method: 'POST',
      headers: { ...t.admin, 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: expect.any(String) });
  });

  it('limits metadata to 16 KiB as JSON, on customer and identity create and patch', async () => {
    const big = { blob: 'z'.repeat(16_500) };
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '777' });
    const attempts = [
      { method: 'POST' as const, url: '/v1/customers', payload: { email: 'meta@example.com', metadata: big } },
      { method: 'PATCH' as const, url: `/v1/customers/${customer.id}`, payload: { metadata: big } },
      {
        method: 'POST' as const,
        url: `/v1/customers/${customer.id}/identities`,
        payload: { channel: 'telegram', external_id: '778', metadata: big },
      },
      {
        method: 'PATCH' as const,
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        payload: { metadata: big },
      },
    ];
    for (const attempt of attempts) {
      const response = await t.app.inject({ ...attempt, headers: t.admin });
      expect(response.statusCode).toBe(422);
      const [error] = response.json().detail;
      expect(error).toMatchObject({ type: 'value_error', loc: ['body', 'metadata'] });
      expect(error.msg).toMatch(/at most 16384/);
    }
    // Nothing was written: the customer and identity still have empty metadata, and no new rows.
    expect((await t.app.inject({ url: `/v1/customers/${customer.id}`, headers: t.admin })).json().metadata).toEqual({});
    const identities = await t.app.inject({ url: `/v1/customers/${customer.id}/identities`, headers: t.admin });
    expect(identities.json()).toHaveLength(1);
    expect(identities.json()[0].metadata).toEqual({});
    // Just under the limit is fine.
    const fits = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}`,
      headers: t.admin,
      payload: { metadata: { blob: 'z'.repeat(16_000) } },
    });
    expect(fits.statusCode).toBe(200);
  });

  it('limits metadata to 5 levels of nesting', async () => {
    const customer = await createCustomer(t.app);
    const ok = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}`,
      headers: t.admin,
      payload: { metadata: nested(5) },
    });
    expect(ok.statusCode).toBe(200);
    const tooDeep = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${customer.id}/identities`,
      headers: t.admin,
      payload: { channel: 'telegram', external_id: '901', metadata: nested(6) },
    });
    expect(tooDeep.statusCode).toBe(422);
    expect(tooDeep.json().detail[0]).toMatchObject({ type: 'value_error', loc: ['body', 'metadata'] });
    expect(tooDeep.json().detail[0].msg).toMatch(/nested more than 5 levels/);
    // Arrays count as levels too.
    const arrays = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}`,
      headers: t.admin,
      payload: { metadata: { a: [[[[[1]]]]] } },
    });
    expect(arrays.statusCode).toBe(422);
  });

  it('requires metadata to be an object', async () => {
    const customer = await createCustomer(t.app);
    for (const metadata of [[1, 2], 'text', 5, true]) {
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}`,
        headers: t.admin,
        payload: { metadata },
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ type: 'dict_type', loc: ['body', 'metadata'] });
    }
  });

  it('refuses a query string over 4 KiB with a clear 400', async () => {
    const response = await t.app.inject({
      url: `/v1/customers?q=${'a'.repeat(5_000)}`,
      headers: t.admin,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/Query string too long/);
  });

  it('answers headers over 16 KiB with 431 in the contract shape, over a real socket', async () => {
    const answer = await rawRequest(
      port,
      `GET /v1/customers HTTP/1.1\r\nHost: localhost\r\nX-Filler: ${'h'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toEqual({ detail: 'Request headers too large' });
    // The server is still serving.
    const after = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(after.status).toBe(200);
  });

  it('answers a URL over 16 KiB with 431 too', async () => {
    const answer = await rawRequest(port, `GET /v1/customers?q=${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers a path with broken percent-encoding with 400 in the contract shape, with a request id', async () => {
    const response = await t.app.inject({ url: '/v1/customers/%zz', headers: t.admin });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: 'Malformed URL: invalid percent-encoding' });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an empty Content-Type with a 422 in FastAPI shape, not a 500', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...t.admin, 'content-type': '' },
      payload: '{"email":"empty-type@example.com"}',
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0]).toMatchObject({ loc: ['header', 'content-type'] });
  });

  it('refuses U+0000 in any query or body string, or object key, with a 422 naming where, and changes nothing', async () => {
    // PostgreSQL cannot store it in text or jsonb; SQLite could: both refuse it alike.
    const customer = await createCustomer(t.app, { email: 'nul@example.com', name: 'Before' });
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '4242' });
    const nulError = (loc: (string | number)[], input: unknown) => ({
      type: 'value_error',
      loc,
      msg: 'Value error, must not contain the NUL character (U+0000)',
      input,
    });
    const cases: { request: InjectOptions; loc: (string | number)[]; input: unknown }[] = [
      { request: { url: '/v1/customers?email=%00' }, loc: ['query', 'email'], input: '\u0000' },
      {
        request: { url: '/v1/customers/lookup/identity?channel=telegram&external_id=42%0042' },
        loc: ['query', 'external_id'],
        input: '42\u000042',
      },
      {
        request: { method: 'POST', url: '/v1/customers', payload: { email: 'nul2@example.com', name: 'a\u0000b' } },
        loc: ['body', 'name'],
        input: 'a\u0000b',
      },
      {
        request: {
          method: 'PATCH',
          url: `/v1/customers/${customer.id}`,
          payload: { name: 'After', metadata: { ok: [1, { 'k\u0000': true }] } },
        },
        loc: ['body', 'metadata', 'ok', 1, 'k\u0000'],
        input: true,
      },
      {
        request: {
          method: 'PATCH',
          url: `/v1/customers/${customer.id}/identities/${identity.id}`,
          payload: { display_name: '\u0000' },
        },
        loc: ['body', 'display_name'],
        input: '\u0000',
      },
      {
        request: {
          method: 'POST',
          url: `/v1/customers/${customer.id}/identities`,
          payload: { channel: 'telegram', external_id: '4243\u0000' },
        },
        loc: ['body', 'external_id'],
        input: '4243\u0000',
      },
    ];
    for (const { request, loc, input } of cases) {
      const response = await t.app.inject({ ...request, headers: t.admin });
      expect(response.statusCode, JSON.stringify(request)).toBe(422);
      expect(response.json()).toEqual({ detail: [nulError(loc, input)] });
    }
    const after = await t.app.inject({ url: `/v1/customers/${customer.id}`, headers: t.admin });
    expect(after.json()).toMatchObject({ name: 'Before', metadata: {} });
    const identities = await t.app.inject({ url: `/v1/customers/${customer.id}/identities`, headers: t.admin });
    expect(identities.json()).toHaveLength(1);
    expect(identities.json()[0].display_name).toBeNull();
    const listed = await t.app.inject({ url: '/v1/customers?email=nul2@example.com', headers: t.admin });
    expect(listed.json().items).toEqual([]);
  });

  it('answers a malformed request line with 400 in the contract shape', async () => {
    const answer = await rawRequest(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ detail: expect.any(String) });
  });
});
