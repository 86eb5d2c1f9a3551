import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Services } from '../../src/services.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer } from '../helpers/factories.js';
import { type Receiver, startReceiver } from './support/receiver.js';
import { createWebhook } from './support/webhook-app.js';

const servicesOf = (app: FastifyInstance) => (app as FastifyInstance & { services: Services }).services;

// Replicas of the service on one database, each running its own delivery loop: on PostgreSQL the
// real case; on SQLite two apps of one process on one file, which must not trip over each other either.
describe.each(DIALECTS)('two replicas, one outbox ($name)', (dialect) => {
  const apps: FastifyInstance[] = [];
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  let receiver: Receiver;
  beforeAll(async () => {
    database = await createSharedDatabase(dialect);
    const config = loadConfig({
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_POLL_INTERVAL_MS: '10',
    });
    for (let i = 0; i < 2; i++) {
      const app = await buildApp(config, { logger: false });
      await app.ready();
      apps.push(app);
    }
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await receiver.close();
    await database.dispose();
  });

  it('delivers every event exactly once, in order, whichever replica wrote it', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const first = await createWebhook(a, { url: `${receiver.url}/first`, events: ['customer.created'] });
    const second = await createWebhook(b, { url: `${receiver.url}/second`, events: ['*'] });
    // Each replica must first hear of both subscriptions (NOTIFY, or at most a second on SQLite).
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const count = 30;
    const created: string[] = [];
    for (let i = 0; i < count; i++) created.push((await createCustomer(i % 2 === 0 ? a : b)).id);
    await receiver.waitFor(2 * count, 30_000);
    // Both loops, until nothing is due: no second copy of anything may arrive.
    await Promise.all(apps.map((app) => servicesOf(app).dispatcher.drain()));
    expect(receiver.received).toHaveLength(2 * count);

    for (const [hook, path] of [
      [first, '/hooks/first'],
      [second, '/hooks/second'],
    ] as const) {
      const mine = receiver.received.filter((r) => r.path === path);
      const events = mine.map(
        (r) =>
          new Webhook(hook.secret).verify(r.body, r.headers as Record<string, string>) as {
            id: string;
            data: { customer: { id: string } };
          },
      );
      expect(new Set(events.map((e) => e.id)).size).toBe(count);
      expect(events.map((e) => e.data.customer.id)).toEqual(created);
    }
    // And each attempt was recorded once, by whichever replica made it.
    const attempts = await servicesOf(a)
      .db.kysely.selectFrom('webhook_attempts')
      .select(['event_id', 'attempt'])
      .execute();
    expect(attempts).toHaveLength(2 * count);
    expect(attempts.every((row) => row.attempt === 1)).toBe(true);
    // Together the loops made not one attempt too many; on PostgreSQL both did part of the work
    // (on SQLite, two apps of one process, whichever looks first usually takes it all).
    const delivered = apps.map((app) => servicesOf(app).dispatcher.outcomes.delivered);
    if (dialect.name === 'postgres')
      expect(
        delivered.every((n) => n > 0),
        String(delivered),
      ).toBe(true);
    expect(delivered.reduce((x, y) => x + y)).toBe(2 * count);
  });
});
