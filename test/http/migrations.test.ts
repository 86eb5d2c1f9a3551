import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { up } from '../../src/db/migrations/2026-11-25-001-initial.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

describe.each(DIALECTS)('migrations and cascades on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('run twice safely; the app still works', async () => {
    const customer = await createCustomer(t.app);
    const db = t.app.services.db.kysely;
    const second = await migrateToLatest(db);
    expect(second).toEqual([]);
    await migrateToLatest(db);
    // Even the migration itself, run again behind Kysely's back, changes nothing.
    await up(db);

    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '606' });
    const lookup = await t.app.inject({
      url: '/v1/customers/lookup/identity?channel=telegram&external_id=606',
      headers: t.admin,
    });
    expect(lookup.statusCode).toBe(200);
    expect(lookup.json().customer_id).toBe(customer.id);
    // Uniqueness survived the second run.
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${customer.id}/identities`,
      headers: t.admin,
      payload: { channel: 'telegram', external_id: '606' },
    });
    expect(again.statusCode).toBe(409);
  });

  it("deleting a customer removes its identities and their claim codes, and no one else's", async () => {
    const db = t.app.services.db.kysely;
    const doomed = await createCustomer(t.app);
    const kept = await createCustomer(t.app);
    const ids: string[] = [];
    for (const externalId of ['7001', '7002']) {
      const identity = await createIdentity(t.app, doomed.id, { channel: 'telegram', external_id: externalId });
      await generateCode(t.app, doomed.id, identity.id);
      ids.push(identity.id);
    }
    const keptIdentity = await createIdentity(t.app, kept.id, { channel: 'telegram', external_id: '7003' });
    await generateCode(t.app, kept.id, keptIdentity.id);

    const count = async (
      table: 'identities' | 'claim_codes',
      column: 'customer_id' | 'identity_id',
      values: string[],
    ) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where(column, 'in', values)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('identities', 'customer_id', [doomed.id])).toBe(2);
    expect(await count('claim_codes', 'identity_id', ids)).toBe(2);

    const response = await t.app.inject({ method: 'DELETE', url: `/v1/customers/${doomed.id}`, headers: t.admin });
    expect(response.statusCode).toBe(204);
    expect(await count('identities', 'customer_id', [doomed.id])).toBe(0);
    expect(await count('claim_codes', 'identity_id', ids)).toBe(0);
    expect(await count('identities', 'customer_id', [kept.id])).toBe(1);
    expect(await count('claim_codes', 'identity_id', [keptIdentity.id])).toBe(1);
  });
});

describe.each(DIALECTS)('two apps starting on one fresh database on $name', (dialect) => {
  it('both migrate (at once) and serve the same data', async () => {
    const database = await createSharedDatabase(dialect);
    const config = loadConfig({ DATABASE_URL: database.url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' });
    const apps = await Promise.all([buildApp(config, { logger: false }), buildApp(config, { logger: false })]);
    try {
      const [a, b] = apps;
      const customer = await createCustomer(a);
      const response = await b.inject({ url: `/v1/customers/${customer.id}`, headers: { 'x-api-key': ADMIN_KEY } });
      expect(response.statusCode).toBe(200);
      if (dialect.name === 'sqlite') {
        // A file in WAL mode with foreign keys on.
        const db = a.services.db.kysely;
        const journal = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(db);
        expect(journal.rows[0]?.journal_mode).toBe('wal');
        const fk = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(db);
        expect(fk.rows[0]?.foreign_keys).toBe(1);
      }
    } finally {
      for (const app of apps) await app.close();
      await database.dispose();
    }
  });
});
