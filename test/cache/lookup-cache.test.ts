import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ChangeHub } from '../../src/features/changes/changes.js';
import type { LookupRow } from '../../src/features/identities/identities.repository.js';
import { LookupCache } from '../../src/features/identities/lookup-cache.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

// Long TTLs: a cache that missed an invalidation would answer stale for an hour, not for a moment.
const LONG_TTLS = { LOOKUP_CACHE_TTL_SECONDS: '3600', LOOKUP_CACHE_MISS_TTL_SECONDS: '3600' };
const admin = { 'x-api-key': ADMIN_KEY };

let seq = 0;
const telegramId = () => String(Date.now() * 1000 + (seq++ % 1000));

interface LookupBody {
  customer_email: string;
  customer_id: string;
  display_name: string | null;
  identity_id: string;
  role_override: string | null;
  verified: boolean;
}

async function lookup(app: FastifyInstance, externalId: string) {
  const response = await app.inject({
    url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
    headers: admin,
  });
  return { status: response.statusCode, body: response.json<LookupBody>() };
}

/**
 * Looks up until an answer comes from the cache, so that what follows starts from a cached entry.
 * More than one round only on PostgreSQL, where a notification still on its way (the replica's
 * own earlier write, or LISTEN starting, which clears the cache) may drop the first entry.
 */
async function warm(app: FastifyInstance, externalId: string) {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const first = await lookup(app, externalId);
    const hits = app.services.lookupCache.hits;
    const second = await lookup(app, externalId);
    if (app.services.lookupCache.hits === hits + 1) {
      expect(second).toEqual(first);
      return second;
    }
    if (Date.now() > deadline) throw new Error('the lookup never came from the cache');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(DIALECTS)('the lookup cache in one process on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, LONG_TTLS);
  });
  afterAll(() => t.close());

  it('answers the next lookup fresh after each PATCH and DELETE through the API', async () => {
    const customer = await createCustomer(t.app, { email: 'fresh@example.com' });
    const externalId = telegramId();
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    const path = `/v1/customers/${customer.id}/identities/${identity.id}`;

    expect((await warm(t.app, externalId)).body).toMatchObject({ display_name: null, verified: false });
    await t.app.inject({ method: 'PATCH', url: path, headers: admin, payload: { display_name: 'Steve' } });
    expect((await lookup(t.app, externalId)).body.display_name).toBe('Steve');

    await warm(t.app, externalId);
    await t.app.inject({
      method: 'PATCH',
      url: path,
      headers: admin,
      payload: { verified: true, role_override: 'vip' },
    });
    expect((await lookup(t.app, externalId)).body).toMatchObject({ verified: true, role_override: 'vip' });

    // The lookup body carries the customer's email: changing it is a change of every identity.
    await warm(t.app, externalId);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}`,
      headers: admin,
      payload: { email: 'renamed@example.com' },
    });
    expect(patched.statusCode).toBe(200);
    expect((await lookup(t.app, externalId)).body.customer_email).toBe('renamed@example.com');

    await warm(t.app, externalId);
    expect((await t.app.inject({ method: 'DELETE', url: path, headers: admin })).statusCode).toBe(204);
    expect((await lookup(t.app, externalId)).status).toBe(404);
  });

  it('caches a miss, and a create makes the identity visible at once', async () => {
    const externalId = telegramId();
    expect((await warm(t.app, externalId)).status).toBe(404);
    const customer = await createCustomer(t.app);
    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    const found = await lookup(t.app, externalId);
    expect(found.status).toBe(200);
    expect(found.body.customer_id).toBe(customer.id);
  });

  it('forgets the identities of a deleted customer', async () => {
    const customer = await createCustomer(t.app);
    const externalId = telegramId();
    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    expect((await warm(t.app, externalId)).status).toBe(200);
    await t.app.inject({ method: 'DELETE', url: `/v1/customers/${customer.id}`, headers: admin });
    expect((await lookup(t.app, externalId)).status).toBe(404);
  });

  it('shows a redeemed claim (verified, owner) on the next lookup', async () => {
    const customer = await createCustomer(t.app);
    const externalId = telegramId();
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    expect((await warm(t.app, externalId)).body.verified).toBe(false);
    const redeemed = await t.app.inject({
      method: 'POST',
      url: '/v1/customers/identities/claim',
      headers: admin,
      payload: { channel: 'telegram', external_id: externalId, code },
    });
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    expect((await lookup(t.app, externalId)).body).toMatchObject({ verified: true, role_override: 'owner' });
  });
});

describe('the lookup cache configuration', () => {
  it('defaults to 100,000 entries, found identities for 5 minutes, "nobody" for 5 seconds (as the README says)', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).lookupCache).toEqual({
      max: 100_000,
      ttlMs: 300_000,
      missTtlMs: 5_000,
    });
  });
});

describe('the lookup cache TTLs', () => {
  const row: LookupRow = {
    identity_id: '011a42b9-62d7-49eb-8328-c2e454af88a1',
    customer_id: '160c0c4b-9966-4dc1-a916-8407eb10d74e',
    channel: 'telegram',
    external_id: '12345',
    instance_id: null,
    display_name: 'Steve',
    role_override: null,
    verified_at: null,
    verified_via: null,
    customer_email: 'steve@acme.com',
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps a found identity for the TTL and "nobody has it" for the miss TTL, then asks again', async () => {
    // TTLs of whole seconds, so that lru-cache reuses its clock reading (ttlResolution 10 ms
    // and 5 ms): the answers must still expire on time.
    const cache = new LookupCache({ max: 10, ttlMs: 1_000, missTtlMs: 500 }, new ChangeHub());
    cache.set('telegram', '12345', [row], cache.epoch());
    cache.set('telegram', '404', [], cache.epoch());
    expect(JSON.parse(cache.answer('telegram', '12345', undefined) ?? 'null')).toMatchObject({
      customer_email: 'steve@acme.com',
    });
    expect(cache.answer('telegram', '404', undefined)).toBeNull();

    await sleep(700);
    expect(cache.answer('telegram', '404', undefined)).toBeUndefined(); // forgotten: the database is asked again
    expect(cache.answer('telegram', '12345', undefined)).not.toBeUndefined();

    await sleep(500);
    expect(cache.answer('telegram', '12345', undefined)).toBeUndefined();
  });
});

describe.each(DIALECTS)('the lookup cache under a flood of unknown ids on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { ...LONG_TTLS, LOOKUP_CACHE_MAX: '20' });
  });
  afterAll(() => t.close());

  it('keeps the answers for real people: "nobody" answers are cached apart, at most a tenth as many', async () => {
    const customer = await createCustomer(t.app, { email: 'flooded@example.com' });
    const known = Array.from({ length: 10 }, telegramId);
    for (const externalId of known) {
      await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
      await warm(t.app, externalId);
    }
    // 100 ids nobody has: each answer is cached, but only the last two fit (a tenth of 20).
    const unknown = Array.from({ length: 100 }, (_, i) => String(900_000_000_000 + i));
    for (const externalId of unknown) expect((await lookup(t.app, externalId)).status).toBe(404);
    const cache = t.app.services.lookupCache;
    expect(cache.size).toBe(10 + 2);

    const hits = cache.hits;
    for (const externalId of known) expect((await lookup(t.app, externalId)).status).toBe(200);
    expect(cache.hits - hits).toBe(known.length);
    // The last unknown id is still a cached miss; the first was pushed out by the others.
    expect((await lookup(t.app, unknown.at(-1) as string)).status).toBe(404);
    expect(cache.hits - hits).toBe(known.length + 1);
    expect((await lookup(t.app, unknown[0] as string)).status).toBe(404);
    expect(cache.hits - hits).toBe(known.length + 1);
  });
});

describe('the lookup cache turned off (LOOKUP_CACHE_MAX=0)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(DIALECTS[0] as (typeof DIALECTS)[number], { LOOKUP_CACHE_MAX: '0' });
  });
  afterAll(() => t.close());

  it('still answers every lookup, from the database', async () => {
    const customer = await createCustomer(t.app);
    const externalId = telegramId();
    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    expect((await lookup(t.app, externalId)).status).toBe(200);
    expect((await lookup(t.app, externalId)).status).toBe(200);
    expect(t.app.services.lookupCache.enabled).toBe(false);
    expect(t.app.services.lookupCache.hits).toBe(0);
  });
});

/** Polls until `check` passes, for at most `ms`; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(DIALECTS.filter((d) => d.name === 'postgres'))('two replicas on one $name database', (dialect) => {
  let a: FastifyInstance;
  let b: FastifyInstance;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const database = await dialect.create();
    dispose = database.dispose;
    // A merge below is of 350 identities: more than one customer may hold by default.
    const config = loadConfig({
      DATABASE_URL: database.url,
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      MAX_IDENTITIES_PER_CUSTOMER: '400',
      ...LONG_TTLS,
    });
    // Two whole applications, each with its own services, caches and LISTEN connection.
    a = await buildApp(config, { logger: false });
    b = await buildApp(config, { logger: false });
    await Promise.all([a.ready(), b.ready()]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dispose?.();
  });

  it('a write through A reaches B’s cache within one second', async () => {
    const customer = await createCustomer(a, { email: 'replica@example.com' });
    const externalId = telegramId();
    const identity = await createIdentity(a, customer.id, { channel: 'telegram', external_id: externalId });
    const path = `/v1/customers/${customer.id}/identities/${identity.id}`;

    await warm(b, externalId);
    await a.inject({ method: 'PATCH', url: path, headers: admin, payload: { display_name: 'seen on B' } });
    await within(1_000, async () => (await lookup(b, externalId)).body.display_name === 'seen on B');

    await warm(b, externalId);
    await a.inject({
      method: 'PATCH',
      url: `/v1/customers/${customer.id}`,
      headers: admin,
      payload: { email: 'moved@example.com' },
    });
    await within(1_000, async () => (await lookup(b, externalId)).body.customer_email === 'moved@example.com');

    await warm(b, externalId);
    await a.inject({ method: 'DELETE', url: path, headers: admin });
    await within(1_000, async () => (await lookup(b, externalId)).status === 404);
  });

  it('a miss cached on B is found within one second of a create through A', async () => {
    const externalId = telegramId();
    expect((await warm(b, externalId)).status).toBe(404);
    const customer = await createCustomer(a);
    await createIdentity(a, customer.id, { channel: 'telegram', external_id: externalId });
    await within(1_000, async () => (await lookup(b, externalId)).status === 200);
    expect((await lookup(b, externalId)).body.customer_id).toBe(customer.id);
  });

  it('a merge of many identities and a move through A reach B: one notice, a reset when too big for NOTIFY', async () => {
    const target = await createCustomer(a);
    const source = await createCustomer(a);
    const ids: string[] = [];
    // Enough keys that their names pass PostgreSQL's NOTIFY limit: the notice becomes a reset.
    for (let i = 0; i < 350; i++) ids.push(telegramId());
    for (const externalId of ids) await createIdentity(a, source.id, { channel: 'telegram', external_id: externalId });
    for (const externalId of [ids[0], ids[349]] as string[]) await warm(b, externalId);
    const merged = await a.inject({
      method: 'POST',
      url: `/v1/customers/${target.id}/merge`,
      headers: admin,
      payload: { source_customer_id: source.id },
    });
    expect(merged.statusCode).toBe(200);
    for (const externalId of [ids[0], ids[349]] as string[]) {
      await within(1_000, async () => (await lookup(b, externalId)).body.customer_id === target.id);
    }

    const alias = `alias-${telegramId()}`;
    const other = await createCustomer(a);
    const identity = await createIdentity(a, other.id, { channel: 'mastodon', external_id: `own-${alias}` });
    await a.inject({
      method: 'POST',
      url: `/v1/customers/${other.id}/identities/${identity.id}/aliases`,
      headers: admin,
      payload: { external_id: alias },
    });
    const byAlias = () =>
      b.inject({ url: `/v1/customers/lookup/identity?channel=mastodon&external_id=${alias}`, headers: admin });
    await within(1_000, async () => (await byAlias()).json().customer_id === other.id);
    await a.inject({
      method: 'POST',
      url: `/v1/customers/${other.id}/identities/${identity.id}/move`,
      headers: admin,
      payload: { customer_id: target.id },
    });
    await within(1_000, async () => (await byAlias()).json().customer_id === target.id);
  });

  it('B does not see the change without the notification (the cache really holds it)', async () => {
    // The control: a change B is never told about (written behind the service's back) stays
    // invisible on B while its cache holds the entry, so the tests above prove the NOTIFY path.
    const customer = await createCustomer(a);
    const externalId = telegramId();
    const identity = await createIdentity(a, customer.id, { channel: 'telegram', external_id: externalId });
    await warm(b, externalId);
    await b.services.db.kysely
      .updateTable('identities')
      .set({ display_name: 'unannounced' })
      .where('id', '=', identity.id)
      .execute();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await lookup(b, externalId)).body.display_name).toBeNull();
  });
});

describe('an app and another process on one SQLite file (the command line, or a hand-made edit)', () => {
  let app: FastifyInstance;
  let other: SQLite.Database;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-cache-file-'));
    const path = join(dir, 'ids.db');
    const config = loadConfig({ DATABASE_URL: `sqlite:${path}`, BOOTSTRAP_API_KEY: ADMIN_KEY, ...LONG_TTLS });
    app = await buildApp(config, { logger: false });
    await app.ready();
    // A connection of its own that commits without the app knowing, as another process does.
    other = new SQLite(path);
  });
  afterAll(async () => {
    other?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("drops its cached answers within 10 ms of another connection's commit (SQLite's data_version)", async () => {
    const customer = await createCustomer(app);
    const externalId = telegramId();
    const identity = await createIdentity(app, customer.id, { channel: 'telegram', external_id: externalId });
    await warm(app, externalId);
    other.prepare('update identities set display_name = ? where id = ?').run('edited elsewhere', identity.id);
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect((await lookup(app, externalId)).body.display_name).toBe('edited elsewhere');

    await warm(app, externalId);
    other.prepare('delete from identities where id = ?').run(identity.id);
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect((await lookup(app, externalId)).status).toBe(404);
  });
});
