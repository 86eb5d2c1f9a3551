import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { up } from '../../src/db/migrations/2026-12-04-001-processed-chat-updates.js';
import { ADMIN_KEY, buildTestApp } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';
import { FakePlatform } from './fake-platform.js';

const TOKEN = '7000000002:AAH-replica-token';
const SECRET = 'replica-webhook-secret_0123456789abcdef';
const URL = '/v1/channels/telegram/webhook';

const update = (updateId: number, fromId: number, text: string) => ({
  update_id: updateId,
  message: {
    message_id: updateId,
    from: { id: fromId, is_bot: false, first_name: 'Steve' },
    chat: { id: fromId, first_name: 'Steve', type: 'private' },
    date: 1_732_530_000,
    text,
    entities: [{ offset: 0, length: 6, type: 'bot_command' }],
  },
});

const post = (app: FastifyInstance, payload: object) =>
  app.inject({ method: 'POST', url: URL, headers: { 'x-telegram-bot-api-secret-token': SECRET }, payload });

describe.each(DIALECTS)('chat update replays across replicas on $name', (dialect) => {
  const platform = new FakePlatform();
  const apps: FastifyInstance[] = [];
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    await platform.start();
    const database = await createSharedDatabase(dialect);
    dispose = database.dispose;
    const config = loadConfig({
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_API_BASE: platform.baseUrl,
    });
    for (let i = 0; i < 2; i++) {
      const app = await buildApp(config, { logger: false });
      await app.ready();
      apps.push(app);
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await dispose();
    await platform.stop();
  });

  it('handles an update once, whichever replica gets each delivery, even at the same moment', async () => {
    const [one, two] = apps as [FastifyInstance, FastifyInstance];
    const customer = await createCustomer(one);
    const identity = await createIdentity(one, customer.id, { channel: 'telegram', external_id: '9301' });
    const { code } = await generateCode(one, customer.id, identity.id);
    platform.take();
    const wrong = update(500_001, 9301, '/claim ZZZZZZ');
    // A delivery to each replica at once, then redeliveries to either.
    const first = await Promise.all([post(one, wrong), post(two, wrong)]);
    expect(first.map((r) => r.statusCode)).toEqual([200, 200]);
    for (const app of [one, two, one, two]) expect((await post(app, wrong)).statusCode).toBe(200);
    expect(platform.take()).toHaveLength(1);
    // Five of the six deliveries were ignored, and /metrics of the two replicas says so.
    let ignored = 0;
    for (const app of apps) {
      const metrics = (await app.inject({ url: '/metrics' })).body;
      ignored += Number(/^chat_updates_redelivered_total\{channel="telegram"\} (\d+)$/m.exec(metrics)?.[1]);
    }
    expect(ignored).toBe(5);
    // One wrong attempt counted: the code still works.
    await post(two, update(500_002, 9301, `/claim ${code}`));
    const lookup = await one.inject({
      url: '/v1/customers/lookup/identity?channel=telegram&external_id=9301',
      headers: { 'x-api-key': ADMIN_KEY },
    });
    expect(lookup.json()).toMatchObject({ verified: true });
  });
});

describe.each(DIALECTS)('remembered chat updates on $name', (dialect) => {
  it('are forgotten once their time is up, and the migration runs twice', async () => {
    let now = Date.parse('2026-12-04T12:00:00.000Z');
    const t = await buildTestApp(dialect, {}, { clock: { now: () => new Date(now) } });
    try {
      const db = t.app.services.db.kysely;
      await up(db);
      const guard = t.app.services.chatUpdates;
      expect(await guard.firstDelivery('slack', 'a')).toBe(true);
      expect(await guard.firstDelivery('telegram', 'a')).toBe(true);
      expect(await guard.firstDelivery('slack', 'a')).toBe(false);
      // Slack's is kept an hour, Telegram's two days: past an hour, only Telegram's is left.
      now += 61 * 60_000;
      expect(await guard.firstDelivery('whatsapp', 'b')).toBe(true);
      await vi.waitFor(async () => {
        const rows = await db.selectFrom('processed_chat_updates').select(['channel', 'update_key']).execute();
        expect(rows.map((r) => `${r.channel}:${r.update_key}`).sort()).toEqual(['telegram:a', 'whatsapp:b']);
      });
      expect(await guard.firstDelivery('telegram', 'a')).toBe(false);
      expect(await guard.firstDelivery('slack', 'a')).toBe(true);
    } finally {
      await t.close();
    }
  });
});
