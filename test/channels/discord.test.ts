import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { createSharedDatabase, DIALECTS, sqlite } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';
import { holdWriteLock } from '../helpers/sqlite-lock.js';
import { FakePlatform } from './fake-platform.js';

const URL = '/v1/channels/discord/interactions';
const APPLICATION_ID = '1190000000000000001';

/** A key pair made here, as the Developer Portal makes the application's: the server gets the public half. */
function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x as string;
  return { privateKey, publicHex: Buffer.from(x, 'base64url').toString('hex') };
}
const KEYS = keyPair();
const OTHER_KEYS = keyPair();

const now = () => Math.floor(Date.now() / 1000);

/** Discord's signature: Ed25519 over the timestamp followed by the raw body, in hex. */
function signed(body: string, options: { timestamp?: number; key?: KeyObject } = {}) {
  const timestamp = String(options.timestamp ?? now());
  const signature = sign(null, Buffer.from(timestamp + body), options.key ?? KEYS.privateKey).toString('hex');
  return { 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp };
}

let interactionNo = 0;
const nextId = () => `13000000000000${String(++interactionNo).padStart(5, '0')}`;

type Where = 'server' | 'dm';

/**
 * An APPLICATION_COMMAND interaction as Discord sends it: in a server the user is under `member`,
 * in a direct message under `user`.
 */
function command(where: Where, userId: string, name: string, code?: string, id = nextId()) {
  const user = { id: userId, username: 'steve', global_name: 'Steve', discriminator: '0', avatar: null };
  return {
    id,
    application_id: APPLICATION_ID,
    type: 2,
    token: `aW50ZXJhY3Rpb246${id}:secret-interaction-token`,
    version: 1,
    locale: 'en-US',
    app_permissions: '2248473465835073',
    entitlements: [],
    authorizing_integration_owners: { 0: '1170000000000000001' },
    data: {
      id: '1200000000000000001',
      name,
      type: 1,
      ...(code === undefined ? {} : { options: [{ name: 'code', type: 3, value: code }] }),
    },
    ...(where === 'server'
      ? {
          context: 0,
          guild_id: '1170000000000000001',
          channel_id: '1180000000000000001',
          member: { user, roles: [], permissions: '2248473465835073', joined_at: '2026-01-01T00:00:00.000000+00:00' },
        }
      : { context: 1, channel_id: '1180000000000000002', user }),
  };
}

describe.each(DIALECTS)('Discord interactions on $name', (dialect) => {
  let t: TestApp;
  const platform = new FakePlatform();
  beforeAll(async () => {
    await platform.start();
    t = await buildTestApp(dialect, {
      DISCORD_PUBLIC_KEY: KEYS.publicHex.toUpperCase(),
      DISCORD_API_BASE: platform.baseUrl,
      RATE_LIMIT_CLAIM_PER_IDENTITY: '7',
    });
  });
  afterAll(async () => {
    await t.close();
    await platform.stop();
  });

  const post = (body: string, headers: Record<string, string> = signed(body)) =>
    t.app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });
  const send = async (payload: object) => post(JSON.stringify(payload));

  async function unverifiedIdentity(userId: string) {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'discord', external_id: userId });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    return { customer, identity, code };
  }

  const lookup = async (userId: string) =>
    (
      await t.app.inject({
        url: `/v1/customers/lookup/identity?channel=discord&external_id=${userId}`,
        headers: t.admin,
      })
    ).json<{ verified: boolean; role_override: string | null; verified_via: string | null }>();

  const ephemeral = (content: unknown) => ({ type: 4, data: { content, flags: 64 } });

  it('answers PING with PONG, and says in service-info that it is on', async () => {
    const response = await send({ id: nextId(), application_id: APPLICATION_ID, type: 1, token: 't', version: 1 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ type: 1 });
    const info = await t.app.inject({ url: '/v1/service-info', headers: t.admin });
    expect(info.json().channels).toMatchObject({ discord: true, telegram: false });
  });

  it.each<Where>(['server', 'dm'])(
    '/claim in a %s verifies the invoking user, with an answer only they see',
    async (where) => {
      const userId = where === 'server' ? '80351110224678912' : '80351110224678913';
      const { code, customer } = await unverifiedIdentity(userId);
      // The code is case-insensitive and ignores spaces, as on every channel.
      const response = await send(command(where, userId, 'claim', ` ${code.toLowerCase()} `));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(
        ephemeral("You're verified! This Discord account is now confirmed as yours, and you're set up as its owner."),
      );
      expect(await lookup(userId)).toMatchObject({
        verified: true,
        role_override: 'owner',
        verified_via: 'claim_code',
      });
      const audit = await t.app.inject({ url: `/v1/audit?customer_id=${customer.id}`, headers: t.admin });
      const events = audit.json<{ items: { action: string; actor: string }[] }>().items;
      expect(events.find((e) => e.action === 'claim.succeeded')?.actor).toBe('discord-webhook');
      // Discord sends the code; nothing is posted to its API for an answer given in the response.
      expect(platform.take()).toEqual([]);
    },
  );

  it('gives the same answer for a foreign and a made-up code, and redeems nothing for the wrong user', async () => {
    const { code } = await unverifiedIdentity('80351110224678920');
    const foreign = (await send(command('server', '80351110224678921', 'claim', code))).json();
    const madeUp = (await send(command('dm', '80351110224678921', 'claim', 'ZZZZZZ'))).json();
    expect(foreign).toEqual(madeUp);
    expect(foreign).toEqual(ephemeral(expect.stringMatching(/^Sorry, that code didn't work/)));
    const usage = (await send(command('dm', '80351110224678921', 'claim', '   '))).json();
    expect(usage).toEqual(ephemeral(expect.stringContaining('send /claim followed by the 6-character code')));
    expect(await lookup('80351110224678920')).toMatchObject({ verified: false });
  });

  it.each<Where>(['server', 'dm'])('/link in a %s asks for a link code for the invoking user', async (where) => {
    // The whole of /link, on every channel, is tested in link.test.ts.
    const userId = where === 'server' ? '80351110224678930' : '80351110224678931';
    const answer = (await send(command(where, userId, 'link'))).json();
    expect(answer).toEqual(ephemeral(expect.stringMatching(/^Your link code is [A-Z0-9]{4}-[A-Z0-9]{4}\. /)));
    const listed = await t.app.inject({ url: '/v1/link-requests?channel=discord', headers: t.admin });
    expect(listed.json<{ items: { external_id: string }[] }>().items.map((r) => r.external_id)).toContain(userId);
  });

  it('answers a command that is not ours, and refuses interactions of other types and bodies that are not interactions', async () => {
    expect((await send(command('dm', '80351110224678940', 'ban', 'x'))).json()).toEqual(
      ephemeral(expect.stringMatching(/doesn't know that command/)),
    );
    const button = { ...command('dm', '80351110224678940', 'claim'), type: 3 };
    const refused = [await send(button), await post('not json'), await send({ hello: 'world' })];
    expect(refused.map((r) => r.statusCode)).toEqual([400, 400, 400]);
    expect(refused.map((r) => Object.keys(r.json()))).toEqual([['detail'], ['detail'], ['detail']]);
  });

  it('refuses every request without a valid, fresh signature with 401, and acts on none', async () => {
    const userId = '80351110224678950';
    const { code } = await unverifiedIdentity(userId);
    const payload = command('server', userId, 'claim', code);
    const body = JSON.stringify(payload);
    const good = signed(body);
    // The same interaction, but for somebody else: the signature no longer matches.
    const tampered = JSON.stringify(command('server', '80351110224678951', 'claim', code, payload.id));
    const attempts: [string, string, Record<string, string>][] = [
      ['no signature', body, { 'x-signature-timestamp': good['x-signature-timestamp'] }],
      ['no timestamp', body, { 'x-signature-ed25519': good['x-signature-ed25519'] }],
      ['no headers', body, {}],
      ['another key', body, signed(body, { key: OTHER_KEYS.privateKey })],
      ['six minutes old', body, signed(body, { timestamp: now() - 6 * 60 })],
      ['six minutes ahead', body, signed(body, { timestamp: now() + 6 * 60 })],
      ['a tampered body', tampered, good],
      ['another timestamp', body, { ...good, 'x-signature-timestamp': String(now() - 1) }],
      ['a signature that is not hex', body, { ...good, 'x-signature-ed25519': 'z'.repeat(128) }],
      ['a short signature', body, { ...good, 'x-signature-ed25519': good['x-signature-ed25519'].slice(2) }],
      ['a timestamp that is not a number', body, { ...good, 'x-signature-timestamp': 'now' }],
    ];
    for (const [what, sent, headers] of attempts) {
      const response = await post(sent, headers);
      expect(response.statusCode, what).toBe(401);
      expect(response.json(), what).toEqual({ detail: 'Invalid request signature' });
    }
    // PING too: Discord checks the endpoint with badly signed PINGs.
    const ping = JSON.stringify({ id: nextId(), application_id: APPLICATION_ID, type: 1, token: 't', version: 1 });
    expect((await post(ping, signed(ping, { key: OTHER_KEYS.privateKey }))).statusCode).toBe(401);
    expect(await lookup(userId)).toMatchObject({ verified: false });
    expect(await lookup('80351110224678951')).toMatchObject({ detail: expect.any(String) });
    // The genuine request still works afterwards: the refused ones used up nothing (not even its id).
    expect((await post(body, good)).json()).toEqual(ephemeral(expect.stringMatching(/^You're verified/)));
  });

  it('acts on an interaction id once: a replay is answered without acting again', async () => {
    const userId = '80351110224678960';
    const { code } = await unverifiedIdentity(userId);
    const wrong = JSON.stringify(command('server', userId, 'claim', 'ZZZZZZ'));
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await post(wrong)).json());
    expect(answers[0]).toEqual(ephemeral(expect.stringMatching(/didn't work/)));
    expect(answers.slice(1)).toEqual(Array(5).fill(ephemeral('This request was already handled.')));
    // One attempt of five spent: the code still works, once, and its replay changes nothing.
    const right = JSON.stringify(command('dm', userId, 'claim', code));
    expect((await post(right)).json()).toEqual(ephemeral(expect.stringMatching(/^You're verified/)));
    expect((await post(right)).json()).toEqual(ephemeral('This request was already handled.'));
    expect(await lookup(userId)).toMatchObject({ verified: true });
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^chat_updates_redelivered_total\{channel="discord"\} 6$/m);
  });

  it('tells a sender who keeps guessing to wait', async () => {
    const texts: string[] = [];
    for (let i = 0; i < 8; i++) {
      texts.push(
        (await send(command(i % 2 ? 'dm' : 'server', '80351110224678970', 'claim', 'ZZZZZZ'))).json().data.content,
      );
    }
    expect(texts[6]).toMatch(/didn't work/);
    expect(texts[7]).toMatch(/^Too many attempts\. Please wait \d+ minutes?/);
  });

  it('keeps JSON parsing everywhere else', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...t.admin, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a@b.c',
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].type).toBe('json_invalid');
  });
});

describe('Discord interactions when not configured', () => {
  it('are 404, hidden from the OpenAPI document, and off in service-info', async () => {
    const t = await buildTestApp(sqlite);
    try {
      const body = JSON.stringify({ type: 1 });
      const response = await t.app.inject({
        method: 'POST',
        url: URL,
        headers: { 'content-type': 'application/json', ...signed(body) },
        payload: body,
      });
      expect(response.statusCode).toBe(404);
      const openapi = await t.app.inject({ url: '/openapi.json' });
      expect(Object.keys(openapi.json().paths)).not.toContain(URL);
      const info = await t.app.inject({ url: '/v1/service-info', headers: t.admin });
      expect(info.json().channels.discord).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('refuses to start with a public key that is not 64 hex digits, saying where to find it', () => {
    expect(() => loadConfig({ DISCORD_PUBLIC_KEY: 'abc123' })).toThrow(/DISCORD_PUBLIC_KEY must be the 64 hex digits/);
  });
});

describe('a Discord command while another process holds the SQLite write lock', () => {
  const platform = new FakePlatform();
  let app: FastifyInstance;
  let url: string;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    await platform.start();
    ({ url, dispose } = await createSharedDatabase(sqlite));
    app = await buildApp(
      loadConfig({
        DATABASE_URL: url,
        BOOTSTRAP_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'silent',
        // Longer than Discord waits: the claim waits for the lock, the answer does not.
        SQLITE_WRITE_WAIT_MS: '10000',
        DISCORD_PUBLIC_KEY: KEYS.publicHex,
        DISCORD_API_BASE: platform.baseUrl,
      }),
      { logger: false },
    );
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
    await platform.stop();
  });

  it('defers the answer (type 5, ephemeral), then edits it through the interaction webhook', async () => {
    const userId = '80351110224678980';
    const customer = await createCustomer(app);
    const identity = await createIdentity(app, customer.id, { channel: 'discord', external_id: userId });
    const { code } = await generateCode(app, customer.id, identity.id);
    const payload = command('server', userId, 'claim', code);
    const body = JSON.stringify(payload);

    const lock = await holdWriteLock(url.slice('sqlite:'.length), 4_000);
    try {
      const started = Date.now();
      const response = await app.inject({
        method: 'POST',
        url: URL,
        headers: { 'content-type': 'application/json', ...signed(body) },
        payload: body,
      });
      const took = Date.now() - started;
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ type: 5, data: { flags: 64 } });
      expect(took, 'answered within Discord’s 3 seconds').toBeLessThan(3_000);
      expect(lock.held(), 'answered while the claim still waits').toBe(true);
      expect(platform.calls).toEqual([]);
    } finally {
      await lock.release();
    }
    await expect.poll(() => platform.calls.length, { timeout: 10_000 }).toBe(1);
    const [edit] = platform.take();
    expect(edit).toMatchObject({
      method: 'PATCH',
      path: `/webhooks/${APPLICATION_ID}/${encodeURIComponent(payload.token)}/messages/@original`,
      body: { content: expect.stringMatching(/^You're verified! This Discord account/) },
    });
    // The webhook is the interaction's own: no bot token is needed, none is sent.
    expect(edit?.headers.authorization).toBeUndefined();
    const found = await app.inject({
      url: `/v1/customers/lookup/identity?channel=discord&external_id=${userId}`,
      headers: { 'x-api-key': ADMIN_KEY },
    });
    expect(found.json()).toMatchObject({ verified: true, role_override: 'owner' });
  }, 30_000);
});
