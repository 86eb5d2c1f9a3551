import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { type ChildServer, freePort, kill, sleep, startServer } from './support/child-server.js';

const TELEGRAM_TOKEN = '7000000001:AAHsecret-bot-token-never-logged';
const TELEGRAM_SECRET = 'telegram-webhook-secret_0123456789abcdef';
const WHATSAPP_ACCESS_TOKEN = 'EAAGwhatsappAccessTokenNeverLogged';
const WHATSAPP_APP_SECRET = 'whatsapp-app-secret-never-logged';
const WHATSAPP_VERIFY_TOKEN = 'whatsapp-verify-token-never-logged';
const SLACK_SIGNING_SECRET = 'slack-signing-secret-never-logged';
const SENDER_PHONE = '16505559876';

/**
 * A Graph API that refuses every message with an error quoting what it was sent, the bearer token
 * and the recipient's number included: whatever a platform answers, the log must not repeat it.
 */
async function quotingPlatform(): Promise<{ url: string; server: Server; calls: number }> {
  const state = { url: '', server: undefined as unknown as Server, calls: 0 };
  state.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.calls++;
      response.statusCode = 400;
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          error: {
            message: `(#131030) Recipient not in allowed list; you sent ${request.headers.authorization} ${Buffer.concat(chunks).toString('utf8')}`,
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

function telegramUpdate(fromId: number, text: string) {
  return {
    update_id: 500_001,
    message: {
      message_id: 7,
      from: { id: fromId, is_bot: false, first_name: 'Zebulon', last_name: 'Quuxley', username: 'zquux' },
      chat: { id: fromId, first_name: 'Zebulon', type: 'private' },
      date: 1_732_530_000,
      text,
      entities: [{ offset: 0, length: 6, type: 'bot_command' }],
    },
  };
}

function whatsappMessage(from: string, body: string) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              contacts: [{ profile: { name: 'Zebulon Quuxley' }, wa_id: from }],
              messages: [
                { from, id: 'wamid.secrets-in-logs-1', timestamp: '1749416383', type: 'text', text: { body } },
              ],
            },
          },
        ],
      },
    ],
  };
}

// The database plays no part in what an error says: one SQLite file is enough.
describe('secrets in the running server’s log', () => {
  let server: ChildServer;
  let graph: Awaited<ReturnType<typeof quotingPlatform>>;
  let dir: string;
  let closedPort: number;
  const log = () => server.output.join('\n');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-in-logs-'));
    graph = await quotingPlatform();
    server = await startServer({
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'info',
      // Nothing listens there: every sendMessage fails with the request's URL in its error.
      TELEGRAM_API_BASE: `http://127.0.0.1:${await freePort()}`,
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      WHATSAPP_API_BASE: graph.url,
      WHATSAPP_ACCESS_TOKEN: WHATSAPP_ACCESS_TOKEN,
      WHATSAPP_APP_SECRET: WHATSAPP_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: WHATSAPP_VERIFY_TOKEN,
      SLACK_SIGNING_SECRET: SLACK_SIGNING_SECRET,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_POLL_INTERVAL_MS: '50',
    });
    closedPort = await freePort();
  }, 60_000);
  afterAll(async () => {
    if (server) await kill(server, 'SIGTERM');
    await new Promise<void>((resolve) => graph?.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until the log has a line with `message`. */
  async function lineWith(message: string) {
    for (let i = 0; i < 200 && !log().includes(message); i++) await sleep(50);
    const line = server.output.find((l) => l.includes(message));
    expect(line, `no "${message}" line in:\n${log()}`).toBeDefined();
    return JSON.parse(line as string) as { err?: { message?: string; stack?: string; error?: unknown } };
  }

  it('keeps the bot token out of a failed Telegram answer, and still says why it failed', async () => {
    const response = await fetch(`${server.url}/v1/channels/telegram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      body: JSON.stringify(telegramUpdate(4_815_162_342, '/claim ABC123')),
    });
    expect(response.status).toBe(200);
    const line = await lineWith('could not answer on Telegram');
    // What the operator needs stays: which call, and the network's reason.
    expect(JSON.stringify(line.err)).toContain('sendMessage');
    expect(JSON.stringify(line.err)).toContain('ECONNREFUSED');
    expect(log()).not.toContain(TELEGRAM_TOKEN);
    expect(log()).not.toContain(TELEGRAM_TOKEN.split(':')[1]);
    expect(log()).not.toContain(TELEGRAM_SECRET);
    expect(log()).not.toContain('Quuxley');
  });

  it('keeps the access token and the sender’s number out of a refused WhatsApp answer', async () => {
    const raw = JSON.stringify(whatsappMessage(SENDER_PHONE, 'claim ABC123'));
    const response = await fetch(`${server.url}/v1/channels/whatsapp/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', WHATSAPP_APP_SECRET).update(raw).digest('hex')}`,
      },
      body: raw,
    });
    expect(response.status).toBe(200);
    const line = await lineWith('could not answer on WhatsApp');
    expect(graph.calls).toBe(1);
    expect(line.err?.message).toContain('WhatsApp messages answered 400');
    for (const value of [WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, SENDER_PHONE, 'Quuxley']) {
      expect(log()).not.toContain(value);
    }
  });

  it('never writes the Slack signing secret or a webhook subscription’s secret', async () => {
    const body = new URLSearchParams({ user_id: 'U0SECRETS', command: '/claim', text: 'ABC123' }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const slack = await fetch(`${server.url}/v1/channels/slack/commands`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': `v0=${createHmac('sha256', SLACK_SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`,
      },
      body,
    });
    expect(slack.status).toBe(200);
    const created = await fetch(`${server.url}/v1/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({
        url: `http://hook-user:hook-password@127.0.0.1:${closedPort}/in?token=hook-query-token`,
        events: ['*'],
      }),
    });
    expect(created.status).toBe(201);
    const { id, secret } = (await created.json()) as { id: string; secret: string };
    expect(secret.length).toBeGreaterThan(10);
    // An event, and its delivery failing against a port where nothing listens.
    await fetch(`${server.url}/v1/customers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ email: 'zebulon@quuxley.example' }),
    });
    let attempts: { error: string | null }[] = [];
    for (let i = 0; i < 100 && attempts.length === 0; i++) {
      await sleep(50);
      const answer = await fetch(`${server.url}/v1/webhooks/${id}/deliveries`, { headers: { 'x-api-key': ADMIN_KEY } });
      attempts = (await answer.json()) as typeof attempts;
    }
    expect(attempts[0]?.error).toContain('ECONNREFUSED');
    for (const value of [SLACK_SIGNING_SECRET, secret, 'hook-password', 'hook-query-token', ADMIN_KEY]) {
      expect(log()).not.toContain(value);
    }
  });
});
