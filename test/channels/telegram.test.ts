import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';
import { FakePlatform } from './fake-platform.js';

const TOKEN = '7000000001:AAH-test-token';
const SECRET = 'telegram-webhook-secret_0123456789abcdef';
const URL = '/v1/channels/telegram/webhook';

let updateId = 10_000;

/** A private-chat text message as the Bot API delivers it (see core.telegram.org/bots/api#update). */
function textUpdate(fromId: number, text: string) {
  const command = /^\/\S+/.exec(text)?.[0];
  return {
    update_id: ++updateId,
    message: {
      message_id: updateId,
      from: { id: fromId, is_bot: false, first_name: 'Steve', username: 'steve', language_code: 'en' },
      chat: { id: fromId, first_name: 'Steve', username: 'steve', type: 'private' },
      date: 1_732_530_000,
      text,
      ...(command ? { entities: [{ offset: 0, length: command.length, type: 'bot_command' }] } : {}),
    },
  };
}

describe.each(DIALECTS)('Telegram webhook on $name', (dialect) => {
  let t: TestApp;
  const platform = new FakePlatform();

  beforeAll(async () => {
    await platform.start();
    t = await buildTestApp(dialect, {
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_BOT_USERNAME: 'AcmeIdBot',
      TELEGRAM_API_BASE: platform.baseUrl,
    });
  });
  afterAll(async () => {
    await t.close();
    await platform.stop();
  });

  const post = (payload: unknown, secret: string | null = SECRET) =>
    t.app.inject({
      method: 'POST',
      url: URL,
      headers: secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret },
      payload: payload as object,
    });

  async function unverifiedIdentity(externalId: string) {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: externalId });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    return { customer, identity, code };
  }

  const lookup = async (externalId: string) =>
    (
      await t.app.inject({
        url: `/v1/customers/lookup/identity?channel=telegram&external_id=${externalId}`,
        headers: t.admin,
      })
    ).json<{ verified: boolean; role_override: string | null }>();

  it('verifies the sender of /claim CODE and answers in the chat', async () => {
    const { customer, code } = await unverifiedIdentity('424242');
    platform.take();
    const response = await post(textUpdate(424242, `/claim ${code}`));
    expect(response.statusCode).toBe(200);
    expect(await lookup('424242')).toMatchObject({ verified: true, role_override: 'owner' });
    const [call, ...more] = platform.take();
    expect(more).toEqual([]);
    expect(call?.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(call?.body).toMatchObject({ chat_id: 424242 });
    expect(String(call?.body.text)).toMatch(/^You're verified/);

    const audit = await t.app.inject({ url: `/v1/audit?customer_id=${customer.id}`, headers: t.admin });
    const events = audit.json<{ items: { action: string; actor: string; actor_key_id: string | null }[] }>().items;
    expect(events.find((e) => e.action === 'claim.succeeded')).toMatchObject({
      actor: 'telegram-webhook',
      actor_key_id: null,
    });
  });

  it('accepts /claim@OurBot and the /start claim_CODE deep link, and ignores /claim@OtherBot', async () => {
    const first = await unverifiedIdentity('5001');
    await post(textUpdate(5001, `/claim@OtherBot ${first.code}`));
    expect(await lookup('5001')).toMatchObject({ verified: false });
    platform.take();
    await post(textUpdate(5001, `/claim@acmeidbot ${first.code.toLowerCase()}`));
    expect(await lookup('5001')).toMatchObject({ verified: true });

    const second = await unverifiedIdentity('5002');
    platform.take();
    const response = await post(textUpdate(5002, `/start claim_${second.code}`));
    expect(response.statusCode).toBe(200);
    expect(await lookup('5002')).toMatchObject({ verified: true, role_override: 'owner' });
    expect(String(platform.take()[0]?.body.text)).toMatch(/^You're verified/);
  });

  it('takes the sender from message.from in a group, answers in the group, and bounds the deep link payload', async () => {
    const { code } = await unverifiedIdentity('5101');
    platform.take();
    const inGroup = textUpdate(5101, `/claim@AcmeIdBot ${code}`);
    inGroup.message.chat = { id: -1001234567890, title: 'Acme support', type: 'supergroup' } as never;
    await post(inGroup);
    expect(await lookup('5101')).toMatchObject({ verified: true });
    expect(platform.take()[0]?.body).toMatchObject({ chat_id: -1001234567890 });

    const second = await unverifiedIdentity('5102');
    platform.take();
    // Longer than Telegram's 64 characters: not a payload Telegram would send, so not a claim.
    await post(textUpdate(5102, `/start claim_${second.code}${'x'.repeat(60)}`));
    expect(await lookup('5102')).toMatchObject({ verified: false });
    expect(platform.take()).toEqual([]);
    await post(textUpdate(5102, `/start claim_${second.code.slice(0, 3)}-${second.code.slice(3)}`));
    expect(await lookup('5102')).toMatchObject({ verified: true });
  });

  it('refuses a wrong secret or none with 401 and changes nothing', async () => {
    const { code } = await unverifiedIdentity('6001');
    platform.take();
    for (const secret of ['wrong-secret', null, `${SECRET}x`, '']) {
      const response = await post(textUpdate(6001, `/claim ${code}`), secret);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ detail: expect.any(String) });
    }
    expect(await lookup('6001')).toMatchObject({ verified: false });
    expect(platform.take()).toEqual([]);
  });

  it('answers a wrong code without saying more, and a bare /claim with usage help', async () => {
    const { code } = await unverifiedIdentity('7001');
    platform.take();
    // Someone else's valid code: the same answer as a made-up one.
    await post(textUpdate(7002, `/claim ${code}`));
    await post(textUpdate(7002, '/claim ZZZZZZ'));
    await post(textUpdate(7002, '/claim'));
    const texts = platform.take().map((c) => String(c.body.text));
    expect(texts).toHaveLength(3);
    expect(texts[0]).toMatch(/didn't work/);
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).toMatch(/send \/claim followed by/);
    expect(await lookup('7001')).toMatchObject({ verified: false });
  });

  it('says when the code is void after too many attempts', async () => {
    const { code } = await unverifiedIdentity('8001');
    platform.take();
    for (let i = 0; i < 5; i++) await post(textUpdate(8001, '/claim ZZZZZZ'));
    await post(textUpdate(8001, `/claim ${code}`));
    const texts = platform.take().map((c) => String(c.body.text));
    expect(texts.at(-2)).toMatch(/too many times/);
    expect(texts.at(-1)).toMatch(/didn't work/);
    expect(await lookup('8001')).toMatchObject({ verified: false });
  });

  it('answers a redelivered update once, and counts its wrong guess once', async () => {
    const { code } = await unverifiedIdentity('8101');
    platform.take();
    // Telegram redelivers an update it thinks was lost: six deliveries of one wrong guess.
    const wrong = textUpdate(8101, '/claim ZZZZZZ');
    for (let i = 0; i < 6; i++) expect((await post(wrong)).statusCode).toBe(200);
    expect(platform.take().map((c) => String(c.body.text))).toEqual([expect.stringMatching(/didn't work/)]);
    // One attempt of five spent, not six: the code still works.
    const right = textUpdate(8101, `/claim ${code}`);
    await post(right);
    expect(await lookup('8101')).toMatchObject({ verified: true });
    expect(await post(right)).toMatchObject({ statusCode: 200 });
    expect(platform.take().map((c) => String(c.body.text))).toEqual([expect.stringMatching(/^You're verified/)]);
  });

  it('acknowledges and ignores unrelated updates', async () => {
    platform.take();
    const updates = [
      textUpdate(9001, 'hello there'),
      textUpdate(9001, '/start'),
      textUpdate(9001, '/start ref_campaign'),
      textUpdate(9001, '/help'),
      { update_id: ++updateId, edited_message: textUpdate(9001, '/claim ABCDEF').message },
      {
        update_id: ++updateId,
        callback_query: { id: '1', from: { id: 9001, is_bot: false, first_name: 'S' }, chat_instance: '1', data: 'x' },
      },
      { update_id: ++updateId, my_chat_member: undefined },
    ];
    for (const update of updates) {
      const response = await post(update);
      expect(response.statusCode).toBe(200);
    }
    expect(platform.take()).toEqual([]);
  });
});

describe('Telegram webhook secret', () => {
  const load = (secret: string) =>
    loadConfig({ DATABASE_URL: 'sqlite::memory:', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: secret });

  it("is refused at start unless it keeps Telegram's rules (A-Z a-z 0-9 _ -, at most 256) and has at least 32 characters", () => {
    for (const secret of [
      'x',
      'a'.repeat(31),
      `${'a'.repeat(32)}!`,
      `${'a'.repeat(32)} b`,
      'é'.repeat(40),
      'a'.repeat(257),
    ]) {
      expect(() => load(secret)).toThrow(ConfigError);
      expect(() => load(secret)).toThrow(
        /TELEGRAM_WEBHOOK_SECRET must be 32 to 256 characters of A-Z, a-z, 0-9, _ and -/,
      );
    }
    expect(load('a'.repeat(32)).telegram.webhookSecret).toBe('a'.repeat(32));
    expect(load(`Ab_-9${'z'.repeat(251)}`).telegram.webhookSecret).toHaveLength(256);
  });

  it('counts wrong secrets against the address like wrong API keys, and never refuses the right one', async () => {
    const t = await buildTestApp(DIALECTS[0] as (typeof DIALECTS)[number], {
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      RATE_LIMIT_AUTH_FAILURES_PER_IP: '3',
    });
    try {
      const post = (secret: string, remoteAddress: string) =>
        t.app.inject({
          method: 'POST',
          url: URL,
          headers: { 'x-telegram-bot-api-secret-token': secret },
          payload: { update_id: ++updateId },
          remoteAddress,
        });
      for (let i = 0; i < 3; i++) expect((await post(`wrong-${i}`, '203.0.113.9')).statusCode).toBe(401);
      const refused = await post('wrong', '203.0.113.9');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.json()).toEqual({ detail: expect.any(String) });
      // The same count as API keys: a wrong key from that address is refused too.
      expect(
        (await t.app.inject({ url: '/v1/customers', headers: { 'x-api-key': 'x' }, remoteAddress: '203.0.113.9' }))
          .statusCode,
      ).toBe(429);
      // Telegram itself (the right secret) is never refused, nor is another address.
      expect((await post(SECRET, '203.0.113.9')).statusCode).toBe(200);
      expect((await post('wrong', '198.51.100.1')).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });
});

describe('Telegram webhook when not configured', () => {
  it('is 404', async () => {
    const t = await buildTestApp(DIALECTS[0] as (typeof DIALECTS)[number]);
    try {
      const response = await t.app.inject({ method: 'POST', url: URL, payload: textUpdate(1, '/claim ABCDEF') });
      expect(response.statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});
