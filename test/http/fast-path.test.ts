import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, REDACTED } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { DomainError } from '../../src/internal/errors.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey } from '../helpers/factories.js';

// The fast path (src/http/fast-path.ts) answers cached lookups and /healthz before Fastify. Two
// apps on one database, one with it and one without, get the same requests over real sockets
// (injected requests never reach it): the answers must be the same, header for header.

/** Headers that differ between any two answers: when, and the id each request is given. */
const VARYING = new Set(['date', 'x-request-id']);

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

async function call(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${base}${path}`, init);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!VARYING.has(name)) headers[name] = value;
  });
  return { status: response.status, body: await response.text(), headers };
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe.each(DIALECTS)('the fast path on $name', (dialect) => {
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  let fast: FastifyInstance;
  let plain: FastifyInstance;
  let fastUrl: string;
  let plainUrl: string;
  let runtimeKey: string;
  let telegramId: string;
  let instanceId: string;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    database = await createSharedDatabase(dialect);
    const env = { DATABASE_URL: database.url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'info' };
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    });
    // Every request is slow at 0 ms: the fast path must log its line as Fastify's route does.
    fast = await buildApp(loadConfig({ ...env, LOG_SLOW_REQUEST_MS: '0' }), {
      logger: { level: 'info', stream, redact: { paths: REDACTED, censor: '[redacted]' } },
    });
    plain = await buildApp(loadConfig({ ...env, HTTP_FAST_PATH: 'false' }), { logger: false });
    fastUrl = await listen(fast);
    plainUrl = await listen(plain);
    runtimeKey = (await createKey(fast, 'runtime')).key;
    const customer = await createCustomer(fast, { email: `fast-${randomUUID()}@path.test` });
    telegramId = String(700_000_000 + Math.floor(Math.random() * 1e8));
    await createIdentity(fast, customer.id, { channel: 'telegram', external_id: telegramId, display_name: 'Fast' });
    instanceId = randomUUID();
    await createIdentity(fast, customer.id, {
      channel: 'telegram',
      external_id: telegramId,
      instance_id: instanceId,
      display_name: 'Scoped',
    });
  });
  afterAll(async () => {
    await fast?.close();
    await plain?.close();
    await database?.dispose();
  });

  const lookupPath = (query: Record<string, string>) => `/v1/customers/lookup/identity?${new URLSearchParams(query)}`;
  const withKey = (key: string, headers: Record<string, string> = {}) => ({
    headers: { 'x-api-key': key, ...headers },
  });

  /** Sends the request to both apps (twice to the fast one: a first read, then the cache); returns the fast one's answer. */
  async function same(path: string, init: RequestInit = {}) {
    const expected = await call(plainUrl, path, init);
    for (let i = 0; i < 2; i++) {
      const answer = await call(fastUrl, path, init);
      expect(answer, `${init.method ?? 'GET'} ${path}`).toEqual(expected);
    }
    return expected;
  }

  /** How many requests the fast path answered while `run` ran. */
  async function answeredDuring(run: () => Promise<unknown>) {
    const before = fast.fastPath?.answered ?? 0;
    await run();
    return (fast.fastPath?.answered ?? 0) - before;
  }

  it('answers lookups and /healthz itself, with the bytes and headers Fastify would send', async () => {
    const cases: [string, RequestInit][] = [
      [lookupPath({ channel: 'telegram', external_id: telegramId }), withKey(runtimeKey)],
      [lookupPath({ channel: ' Telegram ', external_id: ` ${telegramId} ` }), withKey(runtimeKey)],
      [lookupPath({ channel: 'telegram', external_id: telegramId, instance_id: instanceId }), withKey(runtimeKey)],
      [
        lookupPath({ channel: 'telegram', external_id: telegramId, instance_id: instanceId.toUpperCase() }),
        withKey(ADMIN_KEY),
      ],
      // Nobody has it: the lookup's 404 is an answer too.
      [lookupPath({ channel: 'telegram', external_id: '1' }), withKey(runtimeKey)],
      ['/healthz', {}],
      ['/healthz', { headers: { 'x-request-id': 'given-id' } }],
    ];
    // A key's first use is checked against the database, by Fastify's route; then it is known.
    const unrelated = lookupPath({ channel: 'telegram', external_id: '2' });
    for (const key of [runtimeKey, ADMIN_KEY]) await call(fastUrl, unrelated, withKey(key));
    let statuses: number[] = [];
    const answered = await answeredDuring(async () => {
      statuses = [];
      for (const [path, init] of cases) statuses.push((await same(path, init)).status);
    });
    expect(statuses).toEqual([200, 200, 200, 200, 404, 200, 200]);
    expect(answered).toBe(cases.length * 2);
    const scoped = await call(fastUrl, cases[2]?.[0] as string, withKey(runtimeKey));
    expect(JSON.parse(scoped.body).display_name).toBe('Scoped');
  });

  it('leaves to Fastify every request it cannot answer exactly so, which gets the same answer', async () => {
    const lookup = lookupPath({ channel: 'telegram', external_id: telegramId });
    const cases: [string, RequestInit][] = [
      [lookup, { method: 'HEAD', ...withKey(runtimeKey) }],
      [lookup, {}],
      [lookup, withKey('wrong-key-0123456789')],
      [lookupPath({ channel: 'telegram' }), withKey(runtimeKey)],
      [lookupPath({ channel: 'telegram', external_id: telegramId, instance_id: 'not-a-uuid' }), withKey(runtimeKey)],
      [lookupPath({ channel: 'telegram', external_id: 'not a chat id' }), withKey(runtimeKey)],
      [`${lookup}&x=${'a'.repeat(5_000)}`, withKey(runtimeKey)],
      [lookup.replace('identity?', 'identity/?'), withKey(runtimeKey)],
      [lookup, { method: 'POST', ...withKey(runtimeKey) }],
      ['/healthz?verbose=1', {}],
      ['/healthz/', {}],
    ];
    for (const [path, init] of cases) {
      expect(await answeredDuring(() => same(path, init)), `${init.method ?? 'GET'} ${path.slice(0, 120)}`).toBe(0);
    }
  });

  it('counts its answers in the metrics and logs them as Fastify does', async () => {
    const metric = async () => {
      const text = await (await fetch(`${fastUrl}/metrics`)).text();
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('http_requests_total{') &&
            l.includes('route="/v1/customers/lookup/identity"') &&
            l.includes('status="200"'),
        );
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await metric();
    lines.length = 0;
    const path = lookupPath({ channel: 'telegram', external_id: telegramId });
    const answered = await answeredDuring(async () => {
      for (let i = 0; i < 5; i++) expect((await fetch(`${fastUrl}${path}`, withKey(runtimeKey))).status).toBe(200);
    });
    expect(answered).toBe(5);
    expect((await metric()) - before).toBe(5);
    const logged = lines.filter((line) => line.msg === 'request' && line.route === '/v1/customers/lookup/identity');
    expect(logged).toHaveLength(5);
    expect(logged[0]).toMatchObject({ level: 30, method: 'GET', status: 200, slow: true, reqId: expect.any(String) });
    expect(logged[0]?.key_id).toEqual(expect.any(String));
    expect(JSON.stringify(lines)).not.toContain(runtimeKey);
  });

  it('hands a lookup whose read failed in a promise to Fastify, which answers the error', async () => {
    const identities = fast.services.identities;
    const original = identities.lookupJson;
    let reads = 0;
    identities.lookupJson = () => {
      reads++;
      return Promise.reject(new DomainError('unavailable', 'The database is not answering'));
    };
    try {
      let answer: Answer | undefined;
      const path = lookupPath({ channel: 'telegram', external_id: telegramId });
      const answered = await answeredDuring(async () => {
        answer = await call(fastUrl, path, withKey(runtimeKey));
      });
      expect(answer?.status).toBe(503);
      expect(JSON.parse(answer?.body ?? '{}')).toEqual({ detail: 'The database is not answering' });
      expect(answer?.headers['retry-after']).toBe('5');
      // Read by the fast path only: the route answers its error rather than making the client
      // wait for a second read (a lock, a timeout) that would fail alike.
      expect(reads).toBe(1);
      expect(answered).toBe(0);
    } finally {
      identities.lookupJson = original;
    }
  });

  it('never takes the process down: a fault of its own is logged and Fastify answers', async () => {
    const fastPath = fast.fastPath as NonNullable<typeof fast.fastPath>;
    const original = fastPath.answer;
    fastPath.answer = () => {
      throw new Error('a bug in the fast path');
    };
    lines.length = 0;
    try {
      await same(lookupPath({ channel: 'telegram', external_id: telegramId }), withKey(runtimeKey));
      await same('/healthz');
    } finally {
      fastPath.answer = original;
    }
    const faults = lines.filter((line) => line.msg === 'the fast path failed');
    expect(faults).toHaveLength(4);
    expect(faults[0]).toMatchObject({ level: 50, err: { message: 'a bug in the fast path' } });
  });

  it("writes the answers of one turn of the event loop together at the turn's end, a failed write alone", async () => {
    const fastPath = fast.fastPath as NonNullable<typeof fast.fastPath>;
    const events: string[] = [];
    // Half a ServerResponse: the broken one fails after its head, which must not leave the
    // connection open with half an answer.
    const response = (name: string, broken = false) => {
      const res = {
        headersSent: false,
        writableEnded: false,
        writeHead: () => {
          res.headersSent = true;
        },
        end: (body: string) => {
          if (broken) throw new Error('the socket broke');
          res.writableEnded = true;
          events.push(`${name} ${body}`);
        },
        destroy: () => events.push(`${name} closed`),
      };
      return res as unknown as ServerResponse;
    };
    const healthz = { method: 'GET', url: '/healthz', headers: {} } as IncomingMessage;
    const toFastify = () => events.push('fastify');
    lines.length = 0;
    const before = fastPath.answered;
    for (const [name, broken] of [
      ['a', false],
      ['b', true],
      ['c', false],
    ] as const) {
      expect(fastPath.answer(healthz, response(name, broken), toFastify)).toBe(true);
    }
    expect(events).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['a {"status":"ok"}', 'b closed', 'c {"status":"ok"}']);
    expect(fastPath.answered - before).toBe(2);
    const faults = lines.filter((line) => line.msg === 'the fast path failed');
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ level: 50, route: '/healthz', err: { message: 'the socket broke' } });
  });

  it('is off with HTTP_FAST_PATH=false, and a value that is not a boolean stops the start', () => {
    expect(plain.fastPath).toBeUndefined();
    expect(fast.fastPath).toBeDefined();
    expect(() => loadConfig({ HTTP_FAST_PATH: 'sometimes' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_FAST_PATH: 'sometimes' })).toThrow(/HTTP_FAST_PATH/);
  });

  it("serves from a Node server with Fastify's own settings (the server is ours, through serverFactory)", () => {
    // Fastify's defaults, which it would have set on a server of its own; Node's are 5 s and 300 s.
    expect(fast.server.keepAliveTimeout).toBe(72_000);
    expect(fast.server.requestTimeout).toBe(0);
  });
});
