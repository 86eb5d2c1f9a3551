import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Services } from '../../src/services.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer, ManualClock } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../webhooks/support/receiver.js';
import { createWebhook } from '../webhooks/support/webhook-app.js';

type App = FastifyInstance & { services: Services };
const DAY = 86_400;
const BATCH = 7;

/** What one replica's /metrics says it pruned, by kind, and in how many batches. */
async function prunedBy(app: FastifyInstance) {
  const text = (await app.inject({ url: '/metrics' })).body;
  const pruned: Record<string, number> = {};
  for (const match of text.matchAll(/^retention_pruned_rows_total\{kind="([a-z_]+)"\} (\d+)$/gm)) {
    pruned[match[1] as string] = Number(match[2]);
  }
  const batches = Number(/^retention_batches_total (\d+)$/m.exec(text)?.[1]);
  return { pruned, batches };
}

describe.each(DIALECTS)('retention across two replicas on $name', (dialect) => {
  let database: { url: string; dispose(): Promise<void> };
  let replicas: App[];
  let receiver: Receiver;
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));

  const count = async (table: 'audit_events' | 'webhook_events' | 'webhook_deliveries', before?: string) => {
    const db = replicas[0]?.services.db.kysely;
    if (!db) throw new Error('no replica');
    const column = table === 'audit_events' ? 'at' : 'created_at';
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .$if(before !== undefined, (q) => q.where(sql.ref(column), '<', before as string))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    database = await createSharedDatabase(dialect);
    const config = loadConfig({
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      AUDIT_RETENTION_DAYS: '10',
      WEBHOOK_EVENT_RETENTION_DAYS: '30',
      RETENTION_BATCH_SIZE: String(BATCH),
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_DELIVERY_ENABLED: 'false',
    });
    replicas = [];
    for (let i = 0; i < 2; i++) {
      const app = (await buildApp(config, { logger: false, clock, pruneInBackground: false })) as App;
      await app.ready();
      replicas.push(app);
    }
  });
  afterAll(async () => {
    for (const app of replicas ?? []) await app.close();
    await database?.dispose();
    await receiver?.close();
  });

  it('prunes old audit entries and webhook events in batches, the two sharing the work', async () => {
    const [a, b] = replicas as [App, App];
    await createWebhook(a, { url: receiver.url, events: ['customer.created'] });
    for (let i = 0; i < 40; i++) await createCustomer(i % 2 === 0 ? a : b);
    await a.services.dispatcher.drain();
    expect(await count('webhook_events')).toBe(40);

    clock.advance(15 * DAY);
    for (let i = 0; i < 3; i++) await createCustomer(a);
    const cutoff = new Date(clock.now().getTime() - 10 * DAY * 1000).toISOString();
    const old = await count('audit_events', cutoff);
    expect(old).toBe(41);

    await Promise.all([a.services.retention.runOnce(), b.services.retention.runOnce()]);
    expect(await count('audit_events', cutoff)).toBe(0);
    expect(await count('audit_events')).toBe(3);
    // Webhook events are younger than 30 days: all kept.
    expect(await count('webhook_events')).toBe(43);

    const [fromA, fromB] = [await prunedBy(a), await prunedBy(b)];
    expect((fromA.pruned.audit_events ?? 0) + (fromB.pruned.audit_events ?? 0)).toBe(old);
    expect(fromA.batches + fromB.batches).toBeGreaterThanOrEqual(Math.ceil(old / BATCH));

    clock.advance(20 * DAY);
    await Promise.all([a.services.retention.runOnce(), b.services.retention.runOnce()]);
    const [laterA, laterB] = [await prunedBy(a), await prunedBy(b)];
    expect((laterA.pruned.webhook_events ?? 0) + (laterB.pruned.webhook_events ?? 0)).toBe(40);
    expect((laterA.pruned.webhook_deliveries ?? 0) + (laterB.pruned.webhook_deliveries ?? 0)).toBe(40);
    expect(await count('webhook_events')).toBe(3);
    expect(await count('webhook_deliveries')).toBe(3);
  });

  it('prunes link requests 30 days after their decision or expiry, in batches, keeping the rest', async () => {
    const [a, b] = replicas as [App, App];
    const headers = { 'x-api-key': ADMIN_KEY };
    let next = 900_000_000;
    const ask = async (externalId = String(next++)) => {
      const response = await a.inject({
        method: 'POST',
        url: '/v1/link-requests',
        headers,
        payload: { channel: 'telegram', external_id: externalId },
      });
      expect(response.statusCode, response.body).toBeLessThan(300);
      return response.json<{ id: string }>().id;
    };
    const decide = async (id: string, verdict: 'approve' | 'reject', payload?: object) => {
      const response = await a.inject({
        method: 'POST',
        url: `/v1/link-requests/${id}/${verdict}`,
        headers,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode, response.body).toBe(200);
    };
    const customer = await createCustomer(a);
    const listed = async () => {
      const response = await b.inject({ url: '/v1/link-requests?limit=200', headers });
      return response.json<{ items: { id: string }[] }>().items.map((item) => item.id);
    };
    const prunedRequests = async () =>
      ((await prunedBy(a)).pruned.link_requests ?? 0) + ((await prunedBy(b)).pruned.link_requests ?? 0);
    const prunedBefore = await prunedRequests();

    const old: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = await ask();
      await decide(id, 'reject');
      old.push(id);
    }
    for (let i = 0; i < 4; i++) {
      const id = await ask();
      await decide(id, 'approve', { customer_id: customer.id });
      old.push(id);
    }
    for (let i = 0; i < 5; i++) old.push(await ask());
    // Asked again after its expiry: the first is marked expired (with no decision), the second pending.
    const again = [String(next++), String(next++)];
    for (const account of again) old.push(await ask(account));
    clock.advance(2 * 3600);
    for (const account of again) old.push(await ask(account));
    expect(old).toHaveLength(21);

    clock.advance(31 * DAY);
    const recent = [await ask()];
    clock.advance(2 * 3600);
    for (let i = 0; i < 2; i++) {
      const id = await ask();
      await decide(id, 'reject');
      recent.push(id);
    }
    recent.push(await ask());
    expect((await listed()).length).toBe(old.length + recent.length);

    await Promise.all([a.services.retention.runOnce(), b.services.retention.runOnce()]);
    expect((await listed()).sort()).toEqual([...recent].sort());
    expect((await prunedRequests()) - prunedBefore).toBe(old.length);
    for (const id of old) {
      expect((await b.inject({ url: `/v1/link-requests/${id}`, headers })).statusCode).toBe(404);
    }
  });

  it('keeps the audit trail for ever by default', () => {
    expect(loadConfig({}).retention).toEqual({ auditMs: 0, webhookEventsMs: 30 * DAY * 1000, batchSize: 500 });
    expect(loadConfig({ WEBHOOK_RETENTION_HOURS: '2' }).retention.webhookEventsMs).toBe(2 * 3_600_000);
  });
});
