import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { type ChildServer, freePort, kill, ROOT, sleep, startServer } from './support/child-server.js';

// Two people, written so that any trace of them in the log is unmistakable.
const EMAIL = 'Zebulon.Quuxley@pii-probe.example';
const NAME = 'Zebulon Quuxley';
const PHONE = '+447400123456';
const PHONE_NATIONAL = '07400 123456';
const EMAIL_2 = 'wilhelmina.quarx@pii-probe.example';
const NAME_2 = 'Wilhelmina Quarx';
const PHONE_2 = '+447400123457';
const PHONE_UNKNOWN = '+447400123458';
/** What must not appear in the log, in any case. */
const TRACES = [
  'quuxley',
  'zebulon',
  'quarx',
  'wilhelmina',
  'pii-probe',
  '7400123456',
  '7400 123456',
  '7400123457',
  '7400123458',
];

const TELEGRAM_TOKEN = '7000000002:AAH-personal-data-probe';
const TELEGRAM_SECRET = 'telegram-webhook-secret_personal-data-probe';
const WHATSAPP_APP_SECRET = 'whatsapp-app-secret-personal-data';

/** A Graph API that refuses every message, quoting what it was sent (the recipient's number). */
async function quotingPlatform(): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.statusCode = 400;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ error: { message: `cannot send ${Buffer.concat(chunks).toString('utf8')}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.each(DIALECTS)('personal data in the log at the default level, on $name', (dialect) => {
  let server: ChildServer;
  let graph: Awaited<ReturnType<typeof quotingPlatform>>;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const database = await createSharedDatabase(dialect);
    dispose = database.dispose;
    graph = await quotingPlatform();
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      DEFAULT_PHONE_REGION: 'GB',
      TELEGRAM_API_BASE: `http://127.0.0.1:${await freePort()}`,
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      WHATSAPP_API_BASE: graph.url,
      WHATSAPP_ACCESS_TOKEN: 'EAAG-personal-data-probe',
      WHATSAPP_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'whatsapp-verify-personal-data',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_POLL_INTERVAL_MS: '50',
      // Unset (an empty value is ignored): the default level.
      LOG_LEVEL: '',
    };
    server = await startServer(env);
    // The default level: what the server logs when LOG_LEVEL is not set.
    expect(server.output.join('\n')).toContain('"level":30');
  }, 60_000);
  afterAll(async () => {
    if (server) await kill(server, 'SIGTERM');
    await new Promise<void>((resolve) => graph?.server.close(() => resolve()));
    await dispose?.();
  });

  const statuses: string[] = [];
  async function call(method: string, path: string, body?: unknown, raw?: string) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'x-api-key': ADMIN_KEY, ...(body !== undefined || raw ? { 'content-type': 'application/json' } : {}) },
      ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    statuses.push(`${method} ${response.status}`);
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  }

  it('writes none of a person’s email, phone number or name, whatever the route answers', async () => {
    const port = await freePort();
    const hook = await call('POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/in`, events: ['*'] });
    expect(hook.status).toBe(201);

    const first = await call('POST', '/v1/customers', { email: EMAIL, name: NAME, metadata: { phone: PHONE } });
    expect(first.status).toBe(201);
    const c1 = first.json.id as string;
    expect((await call('POST', '/v1/customers', { email: EMAIL, name: NAME })).status).toBe(409);
    expect((await call('POST', '/v1/customers', { email: `${NAME} at home`, name: NAME })).status).toBe(422);
    expect((await call('POST', '/v1/customers', undefined, `{"email": "${EMAIL}", "name": "${NAME}"`)).status).toBe(
      422,
    );
    const second = await call('POST', '/v1/customers', { email: EMAIL_2, name: NAME_2 });
    expect(second.status).toBe(201);
    const c2 = second.json.id as string;
    expect((await call('PATCH', `/v1/customers/${c2}`, { email: EMAIL })).status).toBe(409);
    expect((await call('PATCH', `/v1/customers/${c1}`, { name: `${NAME} Jr` })).status).toBe(200);
    expect((await call('PATCH', `/v1/customers/${c1}`, { email: NAME })).status).toBe(422);
    expect((await call('GET', `/v1/customers?email=${encodeURIComponent(EMAIL)}`)).status).toBe(200);
    expect((await call('GET', `/v1/customers?q=${encodeURIComponent(NAME)}`)).status).toBe(200);
    expect((await call('GET', `/v1/customers?q=${encodeURIComponent(NAME)}&limit=${NAME}`)).status).toBe(422);
    expect((await call('GET', `/v1/customers?email=${encodeURIComponent(EMAIL)}&cursor=${PHONE}`)).status).toBe(422);

    const identity = await call('POST', `/v1/customers/${c1}/identities`, {
      channel: 'whatsapp',
      external_id: PHONE_NATIONAL,
      display_name: NAME,
    });
    expect(identity.status).toBe(201);
    const i1 = identity.json.id as string;
    expect(
      (await call('POST', `/v1/customers/${c2}/identities`, { channel: 'whatsapp', external_id: PHONE })).status,
    ).toBe(409);
    expect(
      (await call('POST', `/v1/customers/${c2}/identities`, { channel: 'whatsapp', external_id: `${NAME} phone` }))
        .status,
    ).toBe(422);
    expect(
      (await call('POST', `/v1/customers/${c1}/identities`, { channel: 'email', external_id: EMAIL })).status,
    ).toBe(201);
    expect(
      (await call('POST', `/v1/customers/${c2}/identities`, { channel: 'email', external_id: EMAIL })).status,
    ).toBe(409);
    const alias = `/v1/customers/${c1}/identities/${i1}/aliases`;
    expect((await call('POST', alias, { external_id: PHONE_2 })).status).toBe(201);
    expect((await call('POST', alias, { external_id: PHONE })).status).toBe(409);
    expect((await call('POST', alias, { external_id: `${NAME}!` })).status).toBe(422);
    expect((await call('PATCH', `/v1/customers/${c1}/identities/${i1}`, { display_name: NAME_2 })).status).toBe(200);

    // Lookups: the phone number is in the query string; hit, miss and refused.
    const lookup = (id: string) =>
      `/v1/customers/lookup/identity?channel=whatsapp&external_id=${encodeURIComponent(id)}`;
    expect((await call('GET', lookup(PHONE))).status).toBe(200);
    expect((await call('GET', lookup(PHONE_NATIONAL))).status).toBe(200);
    expect((await call('GET', lookup(PHONE_2))).status).toBe(200);
    expect((await call('GET', lookup(PHONE_UNKNOWN))).status).toBe(404);
    expect((await call('GET', lookup(`${NAME} ${PHONE}`))).status).toBe(422);
    expect((await call('GET', `${lookup(PHONE)}&instance_id=${encodeURIComponent(EMAIL)}`)).status).toBe(422);
    expect((await call('GET', `/v1/customers/${encodeURIComponent(EMAIL)}`)).status).toBeGreaterThanOrEqual(404);

    // Claims: a wrong code and a malformed claim, both for the phone number.
    expect((await call('POST', `/v1/customers/${c1}/identities/${i1}/claim-code`)).status).toBe(201);
    const claim = { channel: 'whatsapp', external_id: PHONE };
    expect((await call('POST', '/v1/customers/identities/claim', { ...claim, code: 'WRONG1' })).status).toBe(400);
    expect((await call('POST', '/v1/customers/identities/claim', claim)).status).toBe(422);

    // A merge, its list and its undo; the audit trail.
    const merge = await call('POST', `/v1/customers/${c1}/merge`, { source_customer_id: c2 });
    expect(merge.status).toBe(200);
    const merges = await call('GET', `/v1/merges?customer_id=${c1}`);
    expect(merges.status).toBe(200);
    expect((await call('GET', `/v1/customers/${c2}`)).status).toBe(410);
    expect((await call('GET', '/v1/audit')).status).toBe(200);

    // Chats: a Telegram sender with a name, a WhatsApp sender with a number; both answers fail.
    const telegram = await fetch(`${server.url}/v1/channels/telegram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      body: JSON.stringify({
        update_id: 900_001,
        message: {
          message_id: 1,
          from: { id: 5_550_001, is_bot: false, first_name: 'Zebulon', last_name: 'Quuxley', username: 'zquuxley' },
          chat: { id: 5_550_001, first_name: 'Zebulon', type: 'private' },
          date: 1_732_530_000,
          text: '/claim ABC123',
          entities: [{ offset: 0, length: 6, type: 'bot_command' }],
        },
      }),
    });
    expect(telegram.status).toBe(200);
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                contacts: [{ profile: { name: NAME }, wa_id: PHONE.slice(1) }],
                messages: [
                  {
                    from: PHONE.slice(1),
                    id: 'wamid.pii-1',
                    timestamp: '1749416383',
                    type: 'text',
                    text: { body: 'claim ABC123' },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const whatsapp = await fetch(`${server.url}/v1/channels/whatsapp/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', WHATSAPP_APP_SECRET).update(raw).digest('hex')}`,
      },
      body: raw,
    });
    expect(whatsapp.status).toBe(200);

    // A body over the limit that carries the email, and the customer's deletion.
    expect(
      (await call('POST', '/v1/customers', { email: EMAIL, name: NAME, metadata: { blob: NAME.repeat(6_000) } }))
        .status,
    ).toBe(413);
    expect((await call('DELETE', `/v1/customers/${c1}`)).status).toBe(204);

    // Let the failed deliveries and the chats' warnings reach the log.
    const deliveries = async () =>
      ((await call('GET', `/v1/webhooks/${hook.json.id as string}/deliveries?limit=100`)).json as unknown as unknown[])
        .length;
    for (let i = 0; i < 100 && (await deliveries()) < 5; i++) await sleep(50);
    const log = () => server.output.join('\n');
    for (let i = 0; i < 100 && !log().includes('could not answer on WhatsApp'); i++) await sleep(50);
    await sleep(200);

    const text = log();
    // The log did say what happened: the failures, the chats' warnings.
    for (const status of ['409', '422', '413', '400', '410']) expect(text).toContain(`"status":${status}`);
    expect(text).toContain('could not answer on Telegram');
    expect(text).toContain('could not answer on WhatsApp');
    expect(statuses.length).toBeGreaterThan(30);
    const lower = text.toLowerCase();
    for (const trace of TRACES) {
      const at = lower.indexOf(trace);
      expect(at, `"${trace}" in the log: …${text.slice(Math.max(0, at - 200), at + 100)}…`).toBe(-1);
    }
  }, 120_000);
});

describe.each(DIALECTS)('personal data in the import’s report, on $name', (dialect) => {
  it('names the skipped lines and why, without their emails, numbers or names', async () => {
    const database = await createSharedDatabase(dialect);
    const dir = mkdtempSync(join(tmpdir(), 'ids-import-report-'));
    try {
      const file = join(dir, 'people.jsonl');
      const person = (email: string, name: string, identities: unknown[] = []) =>
        JSON.stringify({ email, name, identities });
      writeFileSync(
        file,
        [
          person(EMAIL, NAME, [{ channel: 'whatsapp', external_id: PHONE, aliases: [PHONE_2] }]),
          person(EMAIL.toUpperCase(), NAME), // 2: the same email
          person(EMAIL_2, NAME_2, [{ channel: 'whatsapp', external_id: PHONE_NATIONAL }]), // 3: the same number
          person('other@example.com', 'Other', [
            { channel: 'whatsapp', external_id: PHONE_UNKNOWN, aliases: [PHONE_2] },
          ]), // 4: the same alias
          EMAIL, // 5: not JSON, and V8 would quote it
          person(EMAIL_2, NAME_2, [{ channel: 'whatsapp', external_id: '+44 07400 123459' }]), // 6: refused, quoting the number
          person(`${NAME}@`, NAME), // 7: not an email
        ].join('\n'),
      );
      const result = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'import', file],
        {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: database.url, DEFAULT_PHONE_REGION: 'GB', LOG_LEVEL: '' },
          timeout: 60_000,
        },
      ).then(
        (done) => ({ code: 0, ...done }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
      expect(result.code, result.stderr).toBe(2);
      const report = `${result.stdout}\n${result.stderr}`;
      for (const line of [2, 3, 4, 5, 6, 7]) expect(report).toMatch(new RegExp(`^line ${line}: .*\\(skipped\\)$`, 'm'));
      expect(report).toMatch(/^line 2: a customer with this email already exists/m);
      expect(report).toMatch(/^line 3: identities\.0: this whatsapp identity is already linked/m);
      expect(report).toMatch(/^line 5: not valid JSON/m);
      const lower = report.toLowerCase();
      for (const trace of [...TRACES, '7400123459', '7400 123459']) {
        const at = lower.indexOf(trace);
        expect(at, `"${trace}" in the report: ${report}`).toBe(-1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await database.dispose();
    }
  }, 60_000);
});
