import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/create-db.js';
import { up as initial } from '../../src/db/migrations/2026-11-25-001-initial.js';
import { up as identitiesThatChange } from '../../src/db/migrations/2026-12-04-002-identities-that-change.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';

const at = '2026-11-30T10:00:00.000Z';

describe.each(DIALECTS)('the identities-that-change migration on $name', (dialect) => {
  it('back-fills verified_via from the audit trail and the keys of existing identities, twice safely', async () => {
    const database = await createSharedDatabase(dialect);
    const config = loadConfig({ DATABASE_URL: database.url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' });
    const db = createDb(config.database);
    const customerId = randomUUID();
    const [claimed, operator, unverified] = [randomUUID(), randomUUID(), randomUUID()];
    try {
      // A database as the first release left it.
      await initial(db.kysely);
      await db.kysely
        .insertInto('customers')
        .values({
          id: customerId,
          email: 'old@example.com',
          name: null,
          metadata: '{}',
          created_at: at,
          updated_at: at,
        })
        .execute();
      const identity = (id: string, externalId: string, verifiedAt: string | null) => ({
        id,
        customer_id: customerId,
        channel: 'telegram',
        external_id: externalId,
        instance_id: null,
        display_name: null,
        role_override: null,
        verified_at: verifiedAt,
        metadata: '{}',
        created_at: at,
        updated_at: at,
      });
      await db.kysely
        .insertInto('identities')
        .values([identity(claimed, '5001', at), identity(operator, '5002', at), identity(unverified, '5003', null)])
        .execute();
      await db.kysely
        .insertInto('audit_events')
        .values({
          id: randomUUID(),
          at,
          actor_key_id: null,
          actor: 'telegram-webhook',
          action: 'claim.succeeded',
          customer_id: customerId,
          identity_id: claimed,
          changes: '{}',
        })
        .execute();

      await identitiesThatChange(db.kysely);
      await identitiesThatChange(db.kysely);

      const rows = await db.kysely.selectFrom('identities').select(['id', 'verified_via']).execute();
      const via = Object.fromEntries(rows.map((r) => [r.id, r.verified_via]));
      expect(via).toEqual({ [claimed]: 'claim_code', [operator]: 'operator', [unverified]: null });
      const keys = await db.kysely.selectFrom('identity_keys').selectAll().orderBy('external_id').execute();
      expect(keys.map((k) => [k.external_id, k.identity_id, k.kind, k.scope])).toEqual([
        ['5001', claimed, 'external_id', ''],
        ['5002', operator, 'external_id', ''],
        ['5003', unverified, 'external_id', ''],
      ]);
    } finally {
      await db.destroy();
    }

    // The service starts on it (running every migration again) and answers as before.
    const app = await buildApp(config, { logger: false });
    try {
      const headers = { 'x-api-key': ADMIN_KEY };
      const lookup = await app.inject({
        url: '/v1/customers/lookup/identity?channel=telegram&external_id=5001',
        headers,
      });
      expect(lookup.json()).toMatchObject({ identity_id: claimed, verified: true, verified_via: 'claim_code' });
      const again = await app.inject({
        method: 'POST',
        url: `/v1/customers/${customerId}/identities`,
        headers,
        payload: { channel: 'telegram', external_id: '5002' },
      });
      expect(again.statusCode).toBe(409);
      expect(again.json().conflict).toEqual({ customer_id: customerId, identity_id: operator });
    } finally {
      await app.close();
      await database.dispose();
    }
  });
});
