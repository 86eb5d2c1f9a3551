import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Services } from '../../src/services.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer } from '../helpers/factories.js';
import { type ChannelName, chatDrivers, chatEnv, type Sender } from './chat-drivers.js';
import { FakePlatform } from './fake-platform.js';

const servicesOf = (app: FastifyInstance) => (app as FastifyInstance & { services: Services }).services;
const admin = { 'x-api-key': ADMIN_KEY };

// Two replicas of the service on one database, each with its own chat notice loop polling every
// 10 ms: on PostgreSQL the real case; on SQLite two apps of one process on one file.
describe.each(DIALECTS)('chat notices from two replicas ($name)', (dialect) => {
  const apps: FastifyInstance[] = [];
  const platform = new FakePlatform();
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  beforeAll(async () => {
    await platform.start();
    database = await createSharedDatabase(dialect);
    const config = loadConfig({
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      WEBHOOK_POLL_INTERVAL_MS: '10',
      ...chatEnv(platform),
    });
    for (let i = 0; i < 2; i++) {
      const app = await buildApp(config, { logger: false });
      await app.ready();
      apps.push(app);
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await database.dispose();
    await platform.stop();
  });

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  async function pendingRequestOf(app: FastifyInstance, channel: string, externalId: string) {
    const response = await app.inject({
      url: `/v1/link-requests?channel=${channel}&status=pending&limit=100`,
      headers: admin,
    });
    const found = response
      .json<{ items: { id: string; external_id: string }[] }>()
      .items.find((r) => r.external_id === externalId);
    if (!found) throw new Error(`no pending request of ${externalId}`);
    return found.id;
  }

  it('tells each person exactly once, whichever replica decided and whichever looked first', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const onA = chatDrivers(() => a, platform, nowSeconds);
    const channels: ChannelName[] = ['telegram', 'discord', 'whatsapp', 'slack'];
    const asked: { channel: ChannelName; sender: Sender; id: string }[] = [];
    for (let i = 0; i < 16; i++) {
      const channel = channels[i % channels.length] as ChannelName;
      const sender = onA[channel].newSender();
      expect(await onA[channel].link(sender)).toMatch(/^Your link code is/);
      asked.push({ channel, sender, id: await pendingRequestOf(i % 2 === 0 ? a : b, channel, sender.externalId) });
    }
    platform.take();
    const customer = await createCustomer(a);
    // Decided on both replicas at once: each wakes its own loop, and the other's polls.
    await Promise.all(
      asked.map(({ id }, i) => {
        const app = i % 2 === 0 ? a : b;
        return i % 4 < 2
          ? app.inject({
              method: 'POST',
              url: `/v1/link-requests/${id}/approve`,
              headers: admin,
              payload: { customer_id: customer.id },
            })
          : app.inject({ method: 'POST', url: `/v1/link-requests/${id}/reject`, headers: admin });
      }),
    );
    const db = servicesOf(a).db.kysely;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const waiting = await db.selectFrom('chat_notices').select('id').where('status', '!=', 'sent').execute();
      if (waiting.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${waiting.length} notices not sent`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(apps.map((app) => servicesOf(app).chatNotices.drain()));
    const calls = platform.take();
    for (const [i, { channel, sender }] of asked.entries()) {
      const told = onA[channel].messagesTo(calls, sender);
      expect(told, `${channel} ${i}`).toHaveLength(1);
      expect(told[0]).toMatch(
        i % 4 < 2 ? /^Good news: your link request was approved/ : /^Your link request was declined/,
      );
    }
    const sent = apps.map((app) =>
      Object.values(servicesOf(app).chatNotices.outcomes).reduce((sum, counts) => sum + counts.sent, 0),
    );
    expect(sent.reduce((x, y) => x + y)).toBe(asked.length);
    const rows = await db.selectFrom('chat_notices').select(['attempts', 'locked_until']).execute();
    expect(rows).toHaveLength(asked.length);
    expect(rows.every((row) => row.attempts === 1 && row.locked_until === null)).toBe(true);
  });

  it('never sends again a notice whose attempt was never recorded (a replica that died mid-send)', async () => {
    const [a] = apps as [FastifyInstance];
    const onA = chatDrivers(() => a, platform, nowSeconds);
    const sender = onA.telegram.newSender();
    await onA.telegram.link(sender);
    const id = await pendingRequestOf(a, 'telegram', sender.externalId);
    // Stop both loops, so that the notice stays as a dead replica would leave it: taken, never settled.
    await Promise.all(apps.map((app) => servicesOf(app).chatNotices.stop()));
    await a.inject({ method: 'POST', url: `/v1/link-requests/${id}/reject`, headers: admin });
    const db = servicesOf(a).db.kysely;
    await db
      .updateTable('chat_notices')
      .set({ attempts: 1, locked_until: new Date(Date.now() - 1000).toISOString() })
      .where('link_request_id', '=', id)
      .execute();
    platform.take();
    await servicesOf(a).chatNotices.drain();
    expect(onA.telegram.messagesTo(platform.take(), sender)).toEqual([]);
    expect(
      await db
        .selectFrom('chat_notices')
        .select(['status', 'attempts', 'last_error'])
        .where('link_request_id', '=', id)
        .executeTakeFirst(),
    ).toEqual({ status: 'failed', attempts: 1, last_error: 'outcome unknown: the attempt was never recorded' });
  });
});
