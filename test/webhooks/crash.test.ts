import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kill, startServer } from '../hardening/support/child-server.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { type Receiver, startReceiver } from './support/receiver.js';

const ADMIN_KEY = 'webhook-crash-admin-key-0123456789';
const headers = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };

// The real server in a child process, killed with SIGKILL: once after the change committed and
// before any delivery, once in the middle of the delivery. The event arrives all the same.
describe.each(DIALECTS)('kill -9 between commit and delivery ($name)', (dialect) => {
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  let receiver: Receiver;
  beforeAll(async () => {
    database = await createSharedDatabase(dialect);
    // The first request hangs (the server is killed while it waits); later ones get a 200.
    receiver = await startReceiver((_r, index) => (index === 0 ? 'hang' : 200));
  });
  afterAll(async () => {
    await receiver.close();
    await database.dispose();
  });

  it('loses no event', { timeout: 120_000 }, async () => {
    const env = {
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_TIMEOUT_SECONDS: '2',
      WEBHOOK_POLL_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
    };
    // 1. The change commits; this server sends nothing and dies.
    const first = await startServer({ ...env, WEBHOOK_DELIVERY_ENABLED: 'false' });
    const hook = await fetch(`${first.url}/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: receiver.url, events: ['customer.created'] }),
    });
    expect(hook.status).toBe(201);
    const { secret } = (await hook.json()) as { secret: string };
    const created = await fetch(`${first.url}/v1/customers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ email: 'survivor@example.com' }),
    });
    expect(created.status).toBe(201);
    const customer = (await created.json()) as { id: string };
    await kill(first);

    // 2. The next server starts sending it and dies while the receiver has not answered.
    const second = await startServer(env);
    await receiver.waitFor(1, 20_000);
    await kill(second);

    // 3. The one after sends it again once the dead sender's lease has run out.
    const third = await startServer(env);
    try {
      await receiver.waitFor(2, 30_000);
    } finally {
      await kill(third, 'SIGTERM');
    }
    const events = receiver.received.map(
      (r) =>
        new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
          id: string;
          type: string;
          data: { customer: { id: string } };
        },
    );
    expect(events[0]?.type).toBe('customer.created');
    expect(events[0]?.data.customer.id).toBe(customer.id);
    // The same event (same webhook-id): delivered at least once, and counted as a second attempt.
    expect(events[1]?.id).toBe(events[0]?.id);
    expect(receiver.received).toHaveLength(2);
  });
});
