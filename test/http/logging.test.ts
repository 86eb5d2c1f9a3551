import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, REDACTED } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';

interface LogLine {
  msg: string;
  method?: string;
  route?: string;
  status?: number;
  ms?: number;
  time?: number;
  [key: string]: unknown;
}

/** A small client that plays the whole story and returns every secret it saw on the way. */
async function playStory(call: (method: string, url: string, key: string, body?: unknown) => Promise<Response>) {
  const j = async (r: Response) => (await r.json()) as Record<string, string>;
  const secrets = [ADMIN_KEY];
  const runtime = await j(await call('POST', '/v1/api-keys', ADMIN_KEY, { name: 'bot', scope: 'runtime' }));
  secrets.push(runtime.key as string);
  const customer = await j(await call('POST', '/v1/customers', ADMIN_KEY, { email: 'steve@acme.com' }));
  const identity = await j(
    await call('POST', `/v1/customers/${customer.id}/identities`, ADMIN_KEY, {
      channel: 'telegram',
      external_id: '4815162342',
    }),
  );
  const url = `/v1/customers/${customer.id}/identities/${identity.id}/claim-code`;
  const first = await j(await call('POST', url, ADMIN_KEY));
  const second = await j(await call('POST', url, ADMIN_KEY));
  secrets.push(first.code as string, second.code as string);
  const claim = (code: string) =>
    call('POST', '/v1/customers/identities/claim', runtime.key as string, {
      channel: 'telegram',
      external_id: '4815162342',
      code,
    });
  // A voided code, a malformed body carrying the code, and the right one.
  expect((await claim(first.code as string)).status).toBe(400);
  expect(
    (
      await call('POST', '/v1/customers/identities/claim', runtime.key as string, {
        channel: 'telegram',
        code: second.code,
      })
    ).status,
  ).toBe(422);
  expect((await claim(second.code as string)).status).toBe(200);
  const lookup = await call('GET', '/v1/customers/lookup/identity?channel=telegram&external_id=4815162342', ADMIN_KEY);
  expect(lookup.status).toBe(200);
  // Rejected keys are secrets too.
  const wrongKey = 'idsk_this-key-does-not-exist-anywhere';
  secrets.push(wrongKey);
  expect((await call('GET', '/v1/customers', wrongKey)).status).toBe(401);
  // 10 requests; at info, all but the successful lookup (a fast, successful read) are logged.
  return { secrets, requests: 9 };
}

function checkLines(text: string, secrets: string[], requests: number, level: 'info' | 'debug' = 'info') {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => JSON.parse(l) as LogLine);
  const perRequest = parsed.filter((l) => l.msg === 'request');
  expect(perRequest).toHaveLength(requests);
  for (const line of perRequest) {
    expect(typeof line.method).toBe('string');
    expect(line.route).toMatch(/^\/v1\//);
    expect(typeof line.status).toBe('number');
    expect(typeof line.ms).toBe('number');
    expect(typeof line.time).toBe('number');
  }
  expect(perRequest.map((l) => `${l.method} ${l.route} ${l.status}`)).toContain(
    'POST /v1/customers/identities/claim 200',
  );
  const lookups = perRequest.filter((l) => l.route === '/v1/customers/lookup/identity');
  // Every write and every error is logged; the lookup that went well only at debug.
  expect(perRequest.map((l) => `${l.method} ${l.status}`)).toContain('GET 401');
  expect(perRequest.filter((l) => l.method === 'POST')).toHaveLength(8);
  expect(lookups.map((l) => l.level)).toEqual(level === 'debug' ? [20] : []);
  // The external id stays out of the route: it is the template.
  expect(perRequest.every((l) => !String(l.route).includes('4815162342'))).toBe(true);
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(5);
    expect(text, 'a secret reached the logs').not.toContain(secret);
  }
  // The codes are six characters: also make sure they are not there in any case.
  for (const code of secrets.filter((s) => s.length === 6)) expect(text.toUpperCase()).not.toContain(code);
}

/** An app with the app's own logger settings at `level`, writing to a string we can read. */
async function loggedApp(url: string, level: 'info' | 'debug', env: Record<string, string> = {}) {
  const log = { text: '' };
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    log.text += chunk.toString('utf8');
  });
  const config = loadConfig({ DATABASE_URL: url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: level, ...env });
  const app = await buildApp(config, { logger: { level, stream, redact: { paths: REDACTED, censor: '[redacted]' } } });
  await app.ready();
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const response = await app.inject({
      method: method as 'GET',
      url: path,
      headers: { 'x-api-key': key },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return new Response(response.statusCode === 204 ? null : response.body, { status: response.statusCode });
  };
  /** The request lines once `count` are there (a line is written just after the response). */
  const lines = async (count: number) => {
    for (let i = 0; i < 100 && (log.text.match(/"msg":"request"/g) ?? []).length < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return log;
  };
  return { app, call, lines, log };
}

const parseRequestLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l) as LogLine);

describe.each(DIALECTS)('request logs on $name', (dialect) => {
  // Each test plays on a database of its own (the story creates the same customer each time).
  const apps: FastifyInstance[] = [];
  const disposals: (() => Promise<void>)[] = [];
  const freshDatabase = async () => {
    const database = await dialect.create();
    disposals.push(database.dispose);
    return database.url;
  };
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const dispose of disposals) await dispose();
  });

  it('writes one JSON line per write and per error at info, without keys or codes; not for a successful lookup', async () => {
    const { app, call, lines } = await loggedApp(await freshDatabase(), 'info');
    apps.push(app);
    const { secrets, requests } = await playStory(call);
    checkLines((await lines(requests)).text, secrets, requests, 'info');
  });

  it('writes the successful lookup too at debug', async () => {
    const { app, call, lines } = await loggedApp(await freshDatabase(), 'debug');
    apps.push(app);
    const { secrets, requests } = await playStory(call);
    checkLines((await lines(requests + 1)).text, secrets, requests + 1, 'debug');
  });

  it("keeps a lookup's 404 quiet at info but logs other reads' 404s, and every slow request", async () => {
    const url = await freshDatabase();
    const { app, call, lines, log } = await loggedApp(url, 'info');
    apps.push(app);
    const lookup = '/v1/customers/lookup/identity?channel=telegram&external_id=999000111';
    expect((await call('GET', lookup, ADMIN_KEY)).status).toBe(404);
    expect((await call('GET', `/v1/customers/${crypto.randomUUID()}`, ADMIN_KEY)).status).toBe(404);
    expect((await call('GET', '/healthz', ADMIN_KEY)).status).toBe(200);
    const logged = parseRequestLines((await lines(1)).text);
    expect(logged.map((l) => `${l.route} ${l.status}`)).toEqual(['/v1/customers/:customer_id 404']);
    log.text = '';
    // LOG_SLOW_REQUEST_MS=0: every request is slow, so even a fast successful lookup is logged.
    const slow = await loggedApp(url, 'info', { LOG_SLOW_REQUEST_MS: '0' });
    apps.push(slow.app);
    expect((await slow.call('GET', lookup, ADMIN_KEY)).status).toBe(404);
    expect((await slow.call('GET', '/healthz', ADMIN_KEY)).status).toBe(200);
    const slowLines = parseRequestLines((await slow.lines(2)).text);
    expect(slowLines.map((l) => [l.route, l.status, l.slow, l.level])).toEqual([
      ['/v1/customers/lookup/identity', 404, true, 30],
      ['/healthz', 200, true, 30],
    ]);
  });
});

describe.each(DIALECTS)('the running server logs on $name', (dialect) => {
  let child: ChildProcess;
  let stdout = '';
  let base: string;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const database = await dialect.create();
    dispose = database.dispose;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: database.url,
        BOOTSTRAP_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${stdout}`)), 30_000);
      child.stdout?.on('data', () => {
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
  });
  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await dispose();
  });

  it('writes one JSON line per request to stdout, without keys or codes', async () => {
    const before = stdout.length;
    const { secrets, requests } = await playStory((method, url, key, body) =>
      fetch(`${base}${url}`, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    // Let the last line reach us (the server writes it after the response).
    for (let i = 0; i < 100 && (stdout.slice(before).match(/"msg":"request"/g) ?? []).length < requests; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    checkLines(stdout.slice(before), secrets, requests);
  });
});
