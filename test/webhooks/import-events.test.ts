import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../src/cli/data.js';
import { DIALECTS } from '../helpers/dialects.js';
import { type Receiver, startReceiver } from './support/receiver.js';
import { admin, buildWebhookApp, createWebhook } from './support/webhook-app.js';

// The command line's import emits what the same customers created through the API would:
// one customer.created per customer, one identity.linked per identity.
describe.each(DIALECTS)('events of an import ($name)', (dialect) => {
  let t: Awaited<ReturnType<typeof buildWebhookApp>>;
  let receiver: Receiver;
  let dir: string;
  beforeAll(async () => {
    t = await buildWebhookApp(dialect);
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'ids-import-events-'));
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends customer.created and identity.linked for every imported row, and nothing for skipped lines', async () => {
    await createWebhook(t.app, { url: receiver.url, events: ['customer.created', 'identity.linked'] });
    const lines = [
      { email: 'ann@example.com', name: 'Ann', identities: [{ channel: 'telegram', external_id: '501' }] },
      {
        email: 'bob@example.com',
        identities: [
          { channel: 'telegram', external_id: '502' },
          { channel: 'slack', external_id: 'u9' },
        ],
      },
      { email: 'ann@example.com', name: 'Ann again' },
      { email: 'cy@example.com' },
    ];
    const path = join(dir, 'people.jsonl');
    writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const summary = await importFile(t.services, path, { quiet: true, batchSize: 2 });
    expect(summary).toMatchObject({ customers: 3, identities: 3, skipped: 1 });

    await receiver.waitFor(6);
    await t.services.dispatcher.drain();
    expect(receiver.received).toHaveLength(6);
    const customers = receiver.received.filter((r) => r.event.type === 'customer.created');
    const identities = receiver.received.filter((r) => r.event.type === 'identity.linked');
    expect(customers.map((r) => r.event.data.customer?.email).sort()).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
    ]);
    expect(
      customers.find((r) => r.event.data.customer?.email === 'ann@example.com')?.event.data.customer,
    ).toMatchObject({
      name: 'Ann',
      metadata: {},
    });
    expect(identities.map((r) => r.event.data.identity?.external_id).sort()).toEqual(['501', '502', 'U9']);
    const bob = customers.find((r) => r.event.data.customer?.email === 'bob@example.com')?.event.data.customer;
    expect(identities.filter((r) => r.event.data.identity?.customer_id === bob?.id)).toHaveLength(2);
    expect(identities[0]?.event.data.identity).toMatchObject({ verified: false, metadata: {}, instance_id: null });
  });

  it("carries each imported identity's aliases, and sends identity.alias_added for each, as the API shows them", async () => {
    const other = await startReceiver();
    try {
      await createWebhook(t.app, { url: other.url, events: ['identity.linked', 'identity.alias_added'] });
      const path = join(dir, 'aliases.jsonl');
      const line = {
        email: 'dee@example.com',
        identities: [
          { channel: 'whatsapp', external_id: '+14155550123', aliases: ['us.222', 'US.111'] },
          { channel: 'telegram', external_id: '503' },
        ],
      };
      writeFileSync(path, `${JSON.stringify(line)}\n`);
      expect(await importFile(t.services, path, { quiet: true })).toMatchObject({ customers: 1, identities: 2 });

      await other.waitFor(4);
      await t.services.dispatcher.drain();
      const events = other.received.map((r) => r.event);
      const stored = events.find((e) => e.type === 'identity.linked' && e.data.identity?.channel === 'whatsapp');
      const listed = await t.app.inject({
        url: `/v1/customers/${stored?.data.identity?.customer_id}/identities?channel=whatsapp`,
        headers: admin,
      });
      const asTheApiShowsIt = listed.json()[0];
      expect(asTheApiShowsIt.aliases).toEqual(['US.222', 'US.111']);
      expect(events.map((e) => [e.type, e.data.identity?.external_id, e.data.alias ?? null])).toEqual([
        ['identity.linked', '+14155550123', null],
        ['identity.alias_added', '+14155550123', 'US.222'],
        ['identity.alias_added', '+14155550123', 'US.111'],
        ['identity.linked', '503', null],
      ]);
      for (const event of events.slice(0, 3)) expect(event.data.identity).toEqual(asTheApiShowsIt);
      expect(events[3]?.data.identity?.aliases).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
