import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createKey, ManualClock } from '../helpers/factories.js';

const INVALID = { detail: 'Invalid or expired link code' };

let next = 3_700_000;
const telegramId = () => String(next++);
const wrongCode = (code: string) => (code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA');

interface Issued {
  id: string;
  code: string;
  external_id: string;
}

/** `POST /v1/link-requests/lookup`: who a code belongs to, without spending it. */
describe.each(DIALECTS)('link code lookup on $name', (dialect) => {
  let t: TestApp;
  const clock = new ManualClock(Date.parse('2026-12-07T10:00:00.000Z'));
  beforeAll(async () => {
    t = await buildTestApp(dialect, { RATE_LIMIT_CLAIM_PER_KEY: '1000', WEBHOOK_DELIVERY_ENABLED: 'false' }, { clock });
  });
  afterAll(() => t.close());

  const post = (url: string, payload: Record<string, unknown>, headers = t.admin, app = t) =>
    app.app.inject({ method: 'POST', url, headers, payload });
  const lookup = (code: unknown, headers = t.admin) => post('/v1/link-requests/lookup', { code }, headers);
  async function issue(app = t, payload: Record<string, unknown> = {}): Promise<Issued> {
    const response = await post(
      '/v1/link-requests',
      { channel: 'telegram', external_id: telegramId(), ...payload },
      app.admin,
      app,
    );
    if (response.statusCode !== 201) throw new Error(`issue: ${response.statusCode} ${response.body}`);
    return response.json();
  }

  it('answers the pending request (as GET shows it, never the code) and leaves the code redeemable', async () => {
    const request = await issue(t, { display_name: 'Ann' });
    const spaced = `${request.code.slice(0, 4).toLowerCase()}-${request.code.slice(4)} `;
    const found = await lookup(spaced);
    expect(found.statusCode).toBe(200);
    const shown = await t.app.inject({ url: `/v1/link-requests/${request.id}`, headers: t.admin });
    expect(found.json()).toEqual(shown.json());
    expect(found.json()).toMatchObject({ id: request.id, display_name: 'Ann', status: 'pending', channel: 'telegram' });
    expect(found.body).not.toContain(request.code);
    // Looked up twice, then redeemed: nothing was spent.
    expect((await lookup(request.code)).statusCode).toBe(200);
    const customer = await createCustomer(t.app);
    const redeemed = await post('/v1/link-requests/redeem', { code: request.code, customer_id: customer.id });
    expect(redeemed.statusCode).toBe(200);
    expect(redeemed.json().identity).toMatchObject({ verified: true, verified_via: 'link_request' });
  });

  it('every failure of the code is the same 400: wrong, spent, rejected, expired', async () => {
    const wrong = await issue();
    const spent = await issue();
    const rejected = await issue();
    const expired = await issue();
    const customer = await createCustomer(t.app);
    expect((await post('/v1/link-requests/redeem', { code: spent.code, customer_id: customer.id })).statusCode).toBe(
      200,
    );
    expect((await post(`/v1/link-requests/${rejected.id}/reject`, {})).statusCode).toBe(200);
    const codes = [wrongCode(wrong.code), 'x', `${wrong.code}X`, spent.code, rejected.code];
    for (const code of codes) {
      const response = await lookup(code);
      expect(response.statusCode, code).toBe(400);
      expect(response.json()).toEqual(INVALID);
    }
    clock.advance(3600);
    const late = await lookup(expired.code);
    expect(late.statusCode).toBe(400);
    expect(late.json()).toEqual(INVALID);
  });

  it('admin only; a body without a code is a 422', async () => {
    const request = await issue();
    const runtime = await createKey(t.app, 'runtime');
    expect((await lookup(request.code, { 'x-api-key': runtime.key })).statusCode).toBe(403);
    expect((await lookup(request.code, {})).statusCode).toBe(401);
    const missing = await post('/v1/link-requests/lookup', {});
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail[0]).toMatchObject({ loc: ['body', 'code'], type: 'missing' });
    expect((await lookup('')).statusCode).toBe(422);
  });

  it("failures share the key's budget with redemptions: beyond it, 429 even with a right code", async () => {
    const limited = await buildTestApp(dialect, { RATE_LIMIT_CLAIM_PER_KEY: '3' });
    try {
      const request = await issue(limited);
      const customer = await createCustomer(limited.app);
      const look = (code: string) => post('/v1/link-requests/lookup', { code }, limited.admin, limited);
      // Successes cost nothing.
      for (let i = 0; i < 5; i++) expect((await look(request.code)).statusCode).toBe(200);
      expect((await look(wrongCode(request.code))).statusCode).toBe(400);
      expect((await look(wrongCode(request.code))).statusCode).toBe(400);
      const redeemFailure = await post(
        '/v1/link-requests/redeem',
        { code: wrongCode(request.code), customer_id: customer.id },
        limited.admin,
        limited,
      );
      expect(redeemFailure.statusCode).toBe(400);
      const refused = await look(request.code);
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      const refusedRedeem = await post(
        '/v1/link-requests/redeem',
        { code: request.code, customer_id: customer.id },
        limited.admin,
        limited,
      );
      expect(refusedRedeem.statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
