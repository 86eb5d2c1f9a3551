import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey, generateCode } from '../helpers/factories.js';

/**
 * Random and hostile requests at every API route: whatever comes in, the answer is never a 5xx,
 * never a stack trace, always the contract's error shape, and a refused request changes nothing.
 * Throttling is off here so that every request reaches the code under test.
 */
const ENV = {
  RATE_LIMIT_AUTH_FAILURES_PER_IP: '0',
  RATE_LIMIT_CLAIM_PER_IDENTITY: '0',
  RATE_LIMIT_CLAIM_PER_KEY: '0',
};
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const ROUTES: { method: InjectOptions['method']; path: string }[] = [
  { method: 'POST', path: '/v1/customers' },
  { method: 'GET', path: '/v1/customers' },
  { method: 'GET', path: '/v1/customers/{c}' },
  { method: 'PATCH', path: '/v1/customers/{c}' },
  { method: 'DELETE', path: '/v1/customers/{c}' },
  { method: 'GET', path: '/v1/customers/lookup/identity' },
  { method: 'GET', path: '/v1/customers/{c}/identities' },
  { method: 'POST', path: '/v1/customers/{c}/identities' },
  { method: 'PATCH', path: '/v1/customers/{c}/identities/{i}' },
  { method: 'DELETE', path: '/v1/customers/{c}/identities/{i}' },
  { method: 'POST', path: '/v1/customers/{c}/identities/{i}/claim-code' },
  { method: 'POST', path: '/v1/customers/identities/claim' },
  { method: 'POST', path: '/v1/api-keys' },
  { method: 'GET', path: '/v1/api-keys' },
  { method: 'DELETE', path: '/v1/api-keys/{k}' },
  { method: 'GET', path: '/v1/audit' },
  { method: 'GET', path: '/v1/service-info' },
  { method: 'POST', path: '/v1/channels/slack/commands' },
  { method: 'GET', path: '/v1/channels/whatsapp/webhook' },
  { method: 'POST', path: '/v1/channels/whatsapp/webhook' },
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/readyz' },
];

const FIELDS = [
  'email',
  'name',
  'metadata',
  'channel',
  'external_id',
  'instance_id',
  'display_name',
  'role_override',
  'verified',
  'code',
  'scope',
  'q',
  'limit',
  'cursor',
  'customer_id',
  'identity_id',
  '__proto__',
  'constructor',
];

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uFEFF',
    '\uD800',
    '🦄'.repeat(50),
    'telegram',
    'TeLeGrAm ',
    'whatsapp',
    '+1 (415) 555-2671',
    '-100123456',
    '1e400',
    '99999999999999999999999999999',
    'NaN',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '%00',
    '{{7*7}}',
    'admin',
    'runtime',
    'x'.repeat(300),
  ),
);

/** encodeURIComponent, except that a lone surrogate (which it refuses) is sent as its raw UTF-8 bytes. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0, -0, true, false, null),
  fc.jsonValue({ maxDepth: 8 }),
  fc.array(hostileString, { maxLength: 3 }),
);

/** Bodies: structured objects with the fields routes read, any JSON, or text that is not JSON at all. */
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 10 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '{', '[1,2', '{"email": }', 'null', '{"a":1}{"b":2}', '\u0000', '1e999'),
);

/** A path segment: the real id (as is, uppercased, braced: UUID spellings Python accepts), or anything else. */
const segment: fc.Arbitrary<(real: string) => string> = fc.oneof(
  fc.constant((real: string) => real),
  fc.constant((real: string) => real.toUpperCase()),
  fc.constant((real: string) => `%7B${real}%7D`),
  fc.uuid().map((u) => () => u),
  hostileString.map((s) => () => encode(s)),
  fc
    .constantFrom('%zz', '%', '..', '.', '%2e%2e', '%00', '%20', '%F0%9F%A6%84', '00000000-0000-0000-0000-000000000000')
    .map((s) => () => s),
);

const queryString = fc
  .array(
    fc.tuple(
      fc.constantFrom(...FIELDS, 'limit', 'cursor', 'hub.mode'),
      fc.oneof(hostileString, fc.integer().map(String)),
    ),
    {
      maxLength: 5,
    },
  )
  .map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));

const printable = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '?'));

interface Seed {
  customer: string;
  identity: string;
  key: string;
  runtime: string;
}

/** What the database holds that a refused request must not touch. */
async function snapshot(t: TestApp): Promise<string> {
  const db = t.app.services.db.kysely;
  const customers = await db.selectFrom('customers').selectAll().orderBy('id').execute();
  const identities = await db.selectFrom('identities').selectAll().orderBy('id').execute();
  const codes = await db
    .selectFrom('claim_codes')
    .select(['identity_id', 'code_hash'])
    .orderBy('identity_id')
    .execute();
  const keys = await db.selectFrom('api_keys').select(['id', 'name', 'scope', 'revoked_at']).orderBy('id').execute();
  const audit = await db.selectFrom('audit_events').select(['id', 'action']).orderBy('id').execute();
  // A failed claim counts an attempt and records it: that is the point of counting, not a change of state.
  const changes = audit.filter((e) => e.action !== 'claim.failed').map((e) => e.id);
  return JSON.stringify({ customers, identities, codes, keys, changes });
}

function expectContractShape(status: number, text: string) {
  expect(status, text).toBeLessThan(500);
  expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|Error: /);
  if (status < 400 || status === 204 || text === '') return;
  const body = JSON.parse(text) as { detail: unknown };
  expect(Object.keys(body)).toEqual(['detail']);
  if (status === 422) {
    expect(Array.isArray(body.detail)).toBe(true);
    for (const error of body.detail as { loc: unknown[]; msg: unknown; type: unknown }[]) {
      expect(['body', 'query', 'path', 'header']).toContain(error.loc[0]);
      expect(typeof error.msg).toBe('string');
      expect(typeof error.type).toBe('string');
    }
  } else {
    expect(typeof body.detail).toBe('string');
  }
}

describe.each(DIALECTS)('hostile input on $name', (dialect) => {
  let t: TestApp;
  let seed: Seed;
  beforeAll(async () => {
    t = await buildTestApp(dialect, ENV);
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '12345' });
    await generateCode(t.app, customer.id, identity.id);
    const key = await createKey(t.app, 'runtime', 'victim');
    const runtime = await createKey(t.app, 'runtime', 'fuzzer');
    seed = { customer: customer.id, identity: identity.id, key: key.id, runtime: runtime.key };
  });
  afterAll(() => t.close());

  const request = fc.record({
    route: fc.constantFrom(...ROUTES),
    method: fc.option(fc.constantFrom<InjectOptions['method']>('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), {
      freq: 4,
    }),
    query: fc.option(queryString, { freq: 2 }),
    body: fc.option(body, { freq: 4 }),
    contentType: fc.option(
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        'x/y; charset=utf-99',
        '',
      ),
    ),
    auth: fc.constantFrom('admin', 'runtime', 'none', 'garbage', 'empty'),
    garbageKey: printable,
    extraHeaders: fc.dictionary(
      fc.constantFrom(
        'x-request-id',
        'accept',
        'accept-encoding',
        'x-forwarded-for',
        'origin',
        'x-telegram-bot-api-secret-token',
        'x-slack-signature',
        'x-hub-signature-256',
        'range',
      ),
      printable,
      { maxKeys: 3 },
    ),
  });

  it('never answers 5xx, never leaks a stack, always the contract shape, and changes nothing when refusing', async () => {
    await fc.assert(
      fc.asyncProperty(request, segment, segment, segment, async (r, c, i, k) => {
        const path = r.route.path
          .replace('{c}', c(seed.customer))
          .replace('{i}', i(seed.identity))
          .replace('{k}', k(seed.key));
        const headers: Record<string, string> = { ...r.extraHeaders };
        if (r.auth === 'admin') headers['x-api-key'] = ADMIN_KEY;
        if (r.auth === 'runtime') headers['x-api-key'] = seed.runtime;
        if (r.auth === 'garbage') headers['x-api-key'] = r.garbageKey;
        if (r.auth === 'empty') headers['x-api-key'] = '';
        if (r.contentType !== null) headers['content-type'] = r.contentType;
        const before = await snapshot(t);
        const response = await t.app.inject({
          method: r.method ?? r.route.method,
          url: r.query === null ? path : `${path}?${r.query}`,
          headers,
          ...(r.body === null ? {} : { payload: r.body }),
        });
        expectContractShape(response.statusCode, response.body);
        expect(response.headers['x-request-id']).toBeDefined();
        if (response.statusCode >= 400) expect(await snapshot(t)).toBe(before);
      }),
      { numRuns: NUM_RUNS },
    );
  }, 60_000);

  it('answers every route with a valid key and a hostile JSON body without a 5xx, refusing without a change', async () => {
    const writes = ROUTES.filter((r) => r.method === 'POST' || r.method === 'PATCH');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...writes),
        fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { minKeys: 1, maxKeys: 8 }),
        async (route, payload) => {
          const path = route.path
            .replace('{c}', seed.customer)
            .replace('{i}', seed.identity)
            .replace('{k}', '00000000-0000-4000-8000-000000000000');
          const before = await snapshot(t);
          const response = await t.app.inject({
            method: route.method,
            url: path,
            headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
            payload: JSON.stringify(payload),
          });
          expectContractShape(response.statusCode, response.body);
          if (response.statusCode >= 400) expect(await snapshot(t)).toBe(before);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  }, 60_000);
});
