import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { cliActor } from '../../src/features/changes/changes.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, createKey, generateCode, ISO_UTC, ManualClock } from '../helpers/factories.js';

/** Many 401s on purpose: the per-address failure limit must not be what the tests observe. */
const ENV = { RATE_LIMIT_AUTH_FAILURES_PER_IP: '0' };

describe.each(DIALECTS)('API keys on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, ENV);
  });
  afterAll(() => t.close());

  const as = (key: string) => ({ 'x-api-key': key });

  describe('admin routes', () => {
    it('creates a key, shown once, with a recognisable prefix', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: t.admin,
        payload: { name: 'dashboard', scope: 'admin' },
      });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['created_at', 'id', 'key', 'name', 'prefix', 'scope']);
      expect(body).toMatchObject({ name: 'dashboard', scope: 'admin' });
      expect(body.created_at).toMatch(ISO_UTC);
      expect(body.key.startsWith(body.prefix)).toBe(true);
      expect(body.prefix.length).toBeLessThan(body.key.length / 2);
      // At least 128 random bits: 22 base64url characters beyond the prefix.
      expect(body.key.length - body.prefix.length).toBeGreaterThanOrEqual(22);
      expect((await t.app.inject({ url: '/v1/customers', headers: as(body.key) })).statusCode).toBe(200);
    });

    it('lists keys without the keys or their hashes', async () => {
      const created = await createKey(t.app, 'runtime', 'bot');
      const response = await t.app.inject({ url: '/v1/api-keys', headers: t.admin });
      expect(response.statusCode).toBe(200);
      const list = response.json<Record<string, unknown>[]>();
      const item = list.find((k) => k.id === created.id);
      expect(item).toMatchObject({ name: 'bot', scope: 'runtime', prefix: created.prefix, last_used_at: null });
      for (const k of list) {
        expect(Object.keys(k).sort()).toEqual(['created_at', 'id', 'last_used_at', 'name', 'prefix', 'scope']);
      }
      expect(response.body).not.toContain(created.key);
      expect(response.body).not.toContain(ADMIN_KEY);
      expect(response.body).not.toMatch(/[0-9a-f]{64}/);
    });

    it('revokes a key that stops working at once, even right after use', async () => {
      const created = await createKey(t.app, 'admin');
      expect((await t.app.inject({ url: '/v1/customers', headers: as(created.key) })).statusCode).toBe(200);
      const revoked = await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${created.id}`, headers: t.admin });
      expect(revoked.statusCode).toBe(204);
      const after = await t.app.inject({ url: '/v1/customers', headers: as(created.key) });
      expect(after.statusCode).toBe(401);
      expect(after.json()).toEqual({ detail: expect.any(String) });
      const list = await t.app.inject({ url: '/v1/api-keys', headers: t.admin });
      expect(list.json<{ id: string }[]>().map((k) => k.id)).not.toContain(created.id);
      const again = await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${created.id}`, headers: t.admin });
      expect(again.statusCode).toBe(404);
    });

    it('answers 404 for an unknown key id and 422 for a malformed one or a bad scope', async () => {
      const unknown = await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${randomUUID()}`, headers: t.admin });
      expect(unknown.statusCode).toBe(404);
      const malformed = await t.app.inject({ method: 'DELETE', url: '/v1/api-keys/abc', headers: t.admin });
      expect(malformed.statusCode).toBe(422);
      expect(malformed.json().detail[0]).toMatchObject({ loc: ['path', 'key_id'], type: 'uuid_parsing' });
      const scope = await t.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: t.admin,
        payload: { name: 'x', scope: 'root' },
      });
      expect(scope.statusCode).toBe(422);
      expect(scope.json().detail[0]).toMatchObject({ loc: ['body', 'scope'] });
    });

    it('stores keys only as hashes', async () => {
      const created = await createKey(t.app, 'runtime');
      const rows = await t.app.services.db.kysely.selectFrom('api_keys').selectAll().execute();
      expect(rows.length).toBeGreaterThanOrEqual(2);
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(created.key);
      expect(dump).not.toContain(ADMIN_KEY);
      for (const row of rows) expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('runtime scope', () => {
    let runtime: Record<string, string>;
    let customerId: string;
    let identityId: string;
    let externalId: string;
    beforeAll(async () => {
      runtime = as((await createKey(t.app, 'runtime')).key);
      const customer = await createCustomer(t.app);
      const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '31337' });
      customerId = customer.id;
      identityId = identity.id;
      externalId = identity.external_id;
    });

    it('may look up, read customers and identities, and redeem codes', async () => {
      for (const url of [
        `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
        '/v1/customers',
        `/v1/customers/${customerId}`,
        `/v1/customers/${customerId}/identities`,
      ]) {
        const response = await t.app.inject({ url, headers: runtime });
        expect(response.statusCode, url).toBe(200);
      }
      const { code } = await generateCode(t.app, customerId, identityId);
      const claim = await t.app.inject({
        method: 'POST',
        url: '/v1/customers/identities/claim',
        headers: runtime,
        payload: { channel: 'telegram', external_id: externalId, code },
      });
      expect(claim.statusCode).toBe(200);
    });

    it('gets 403 for every write and for key management', async () => {
      const identity = `/v1/customers/${customerId}/identities/${identityId}`;
      const writes: [string, string, unknown][] = [
        ['POST', '/v1/customers', { email: `${randomUUID()}@example.com` }],
        ['PATCH', `/v1/customers/${customerId}`, { name: 'x' }],
        ['DELETE', `/v1/customers/${customerId}`, undefined],
        ['POST', `/v1/customers/${customerId}/identities`, { channel: 'telegram', external_id: '1' }],
        ['PATCH', identity, { display_name: 'x' }],
        ['DELETE', identity, undefined],
        ['POST', `${identity}/claim-code`, undefined],
        ['POST', '/v1/api-keys', { name: 'x', scope: 'admin' }],
        ['GET', '/v1/api-keys', undefined],
        ['DELETE', `/v1/api-keys/${randomUUID()}`, undefined],
      ];
      for (const [method, url, payload] of writes) {
        const response = await t.app.inject({
          method: method as 'POST',
          url,
          headers: runtime,
          ...(payload === undefined ? {} : { payload: payload as object }),
        });
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        expect(response.json()).toEqual({ detail: expect.any(String) });
      }
      // Nothing was changed.
      const customer = await t.app.inject({ url: `/v1/customers/${customerId}`, headers: t.admin });
      expect(customer.statusCode).toBe(200);
      expect(customer.json().name).not.toBe('x');
    });
  });

  describe('missing or unknown key', () => {
    it.each([
      ['GET', '/v1/customers'],
      ['GET', '/v1/customers/lookup/identity?channel=telegram&external_id=1'],
      ['POST', '/v1/customers/identities/claim'],
      ['POST', '/v1/customers'],
      ['GET', '/v1/api-keys'],
    ])('%s %s answers 401', async (method, url) => {
      for (const headers of [{}, as('idsk_not-a-real-key'), as('')]) {
        const response = await t.app.inject({ method: method as 'GET', url, headers });
        expect(response.statusCode).toBe(401);
        expect(response.json()).toEqual({ detail: expect.any(String) });
      }
    });

    it('checks the key before the input', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: { 'content-type': 'application/json' },
        payload: '{not json',
      });
      expect(response.statusCode).toBe(401);
    });

    it('needs no key for health and docs', async () => {
      for (const url of ['/healthz', '/readyz', '/openapi.json']) {
        expect((await t.app.inject({ url })).statusCode, url).toBe(200);
      }
    });
  });
});

describe.each(DIALECTS)('last_used_at on $name', (dialect) => {
  let t: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await buildTestApp(dialect, ENV, { clock });
  });
  afterAll(() => t.close());

  /** The key's last_used_at once the background write has landed (or after a short wait). */
  async function lastUsed(id: string, expected: string | null) {
    let value: string | null = null;
    for (let i = 0; i < 50; i++) {
      const list = await t.app.inject({ url: '/v1/api-keys', headers: t.admin });
      value = list.json<{ id: string; last_used_at: string | null }[]>().find((k) => k.id === id)?.last_used_at ?? null;
      if (value === expected) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return value;
  }

  it('is refreshed at most once a minute', async () => {
    const key = await createKey(t.app, 'runtime');
    const headers = { 'x-api-key': key.key };
    const first = clock.now().toISOString();
    await t.app.inject({ url: '/v1/customers', headers });
    expect(await lastUsed(key.id, first)).toBe(first);

    clock.advance(30);
    await t.app.inject({ url: '/v1/customers', headers });
    // Give a (wrong) write the time to land, then check that none did.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lastUsed(key.id, first)).toBe(first);

    clock.advance(31);
    const later = clock.now().toISOString();
    await t.app.inject({ url: '/v1/customers', headers });
    expect(await lastUsed(key.id, later)).toBe(later);
  });
});

describe.each(DIALECTS)('BOOTSTRAP_API_KEY on $name', (dialect) => {
  it('makes sure an active admin key with that value exists at start, once; a revoked one stays revoked', async () => {
    const database = await createSharedDatabase(dialect);
    const config = loadConfig({ DATABASE_URL: database.url, BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' });
    /** A start whose error-level log lines are kept. */
    const start = async () => {
      const stream = new PassThrough();
      const errors: { msg: string; keyId?: string }[] = [];
      stream.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) errors.push(JSON.parse(line));
      });
      const app = await buildApp(config, { logger: { level: 'error', stream } });
      await app.ready();
      return { app, errors };
    };
    const bootstrapHeaders = { 'x-api-key': ADMIN_KEY };
    try {
      const first = await start();
      const other = await createKey(first.app, 'admin');
      const otherHeaders = { 'x-api-key': other.key };
      const keys = await first.app.inject({ url: '/v1/api-keys', headers: otherHeaders });
      const bootstrap = keys.json<{ id: string; name: string; scope: string }[]>().filter((k) => k.id !== other.id);
      expect(bootstrap).toHaveLength(1);
      expect(bootstrap[0]?.scope).toBe('admin');
      const bootstrapId = bootstrap[0]?.id as string;
      expect(first.errors).toEqual([]);
      // Revoked by an operator (it may have leaked): refused at once, and still after a restart.
      const revoke = await first.app.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${bootstrapId}`,
        headers: otherHeaders,
      });
      expect(revoke.statusCode).toBe(204);
      expect((await first.app.inject({ url: '/v1/customers', headers: bootstrapHeaders })).statusCode).toBe(401);
      await first.app.close();

      const second = await start();
      try {
        // It starts anyway, without the key, and says so at error level, naming the key.
        expect((await second.app.inject({ url: '/readyz' })).statusCode).toBe(200);
        expect((await second.app.inject({ url: '/v1/customers', headers: bootstrapHeaders })).statusCode).toBe(401);
        expect(second.errors).toContainEqual(
          expect.objectContaining({ level: 50, keyId: bootstrapId, msg: expect.stringMatching(/revoked key/) }),
        );
        const after = await second.app.inject({ url: '/v1/api-keys', headers: otherHeaders });
        expect(after.json<{ id: string }[]>().map((k) => k.id)).toEqual([other.id]);

        // Only the explicit restore brings it back, audited, and at once.
        const restored = await second.app.services.apiKeys.restore(cliActor, bootstrapId);
        expect(restored).toMatchObject({ id: bootstrapId, name: 'bootstrap', scope: 'admin' });
        expect((await second.app.inject({ url: '/v1/customers', headers: bootstrapHeaders })).statusCode).toBe(200);
        const audit = await second.app.inject({ url: '/v1/audit?limit=200', headers: otherHeaders });
        const events = audit.json<{ items: { action: string; actor: string; after: { id?: string } | null }[] }>()
          .items;
        expect(events).toContainEqual(
          expect.objectContaining({
            action: 'api_key.restored',
            actor: 'cli',
            after: expect.objectContaining({ id: bootstrapId }),
          }),
        );
        await expect(second.app.services.apiKeys.restore(cliActor, bootstrapId)).rejects.toMatchObject({
          code: 'conflict',
        });
        await expect(second.app.services.apiKeys.restore(cliActor, randomUUID())).rejects.toMatchObject({
          code: 'not_found',
        });
      } finally {
        await second.app.close();
      }

      // A start after the restore finds it active and reports nothing.
      const third = await start();
      try {
        expect((await third.app.inject({ url: '/v1/customers', headers: bootstrapHeaders })).statusCode).toBe(200);
        expect(third.errors).toEqual([]);
        const list = await third.app.inject({ url: '/v1/api-keys', headers: bootstrapHeaders });
        expect(list.json()).toHaveLength(2);
      } finally {
        await third.app.close();
      }
    } finally {
      await database.dispose();
    }
  });
});
