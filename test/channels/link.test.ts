import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, ManualClock } from '../helpers/factories.js';
import { CHANNELS, type ChannelName, type ChatDriver, chatDrivers, chatEnv, type Sender } from './chat-drivers.js';
import { FakePlatform } from './fake-platform.js';

const CODE_REPLY = /^Your link code is ([A-Z0-9]{4})-([A-Z0-9]{4})\. /;
const INVALID = /^Sorry, that link code didn't work\./;

/** The code in a `/link` answer, as the person would type it. */
function codeOf(reply: string | undefined): string {
  const match = CODE_REPLY.exec(reply ?? '');
  if (!match) throw new Error(`not a code reply: ${reply}`);
  return `${match[1]}${match[2]}`;
}

interface LinkRequestBody {
  id: string;
  channel: string;
  external_id: string;
  status: string;
  customer_id: string | null;
  identity_id: string | null;
}

describe.each(DIALECTS)('/link from a chat on $name', (dialect) => {
  let t: TestApp;
  const platform = new FakePlatform();
  const clock = new ManualClock(Date.now());
  let drivers: Record<ChannelName, ChatDriver>;

  beforeAll(async () => {
    await platform.start();
    t = await buildTestApp(
      dialect,
      // Requests and notices are only tested here: no background poll gets in the way.
      { ...chatEnv(platform), RATE_LIMIT_CLAIM_PER_IDENTITY: '7', WEBHOOK_POLL_INTERVAL_MS: '3600000' },
      { clock },
    );
    drivers = chatDrivers(
      () => t.app,
      platform,
      () => Math.floor(clock.now().getTime() / 1000),
    );
  });
  afterAll(async () => {
    await t.close();
    await platform.stop();
  });
  beforeEach(() => {
    platform.respond = undefined;
    platform.take();
  });

  const admin = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: t.admin, ...(payload ? { payload } : {}) });

  async function requestsOf(channel: string, externalId: string): Promise<LinkRequestBody[]> {
    const response = await admin('GET', `/v1/link-requests?channel=${channel}&limit=100`);
    expect(response.statusCode).toBe(200);
    return response.json<{ items: LinkRequestBody[] }>().items.filter((r) => r.external_id === externalId);
  }

  const lookup = async (channel: string, externalId: string) =>
    admin('GET', `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}`);

  /** A sender whose account is linked (and verified, unless told otherwise) to a fresh customer. */
  async function linkedSender(driver: ChatDriver, verified = true) {
    const sender = driver.newSender();
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, {
      channel: driver.channel,
      external_id: sender.externalId,
    });
    if (verified) {
      const patched = await t.app.inject({
        method: 'PATCH',
        url: `/v1/customers/${customer.id}/identities/${identity.id}`,
        headers: t.admin,
        payload: { verified: true },
      });
      expect(patched.statusCode).toBe(200);
    }
    return { sender, customer };
  }

  /** A request made through the API for another account of the person, with its code. */
  async function apiRequest() {
    const externalId = String(9_200_000_000 + Math.floor(Math.random() * 1e8));
    const response = await admin('POST', '/v1/link-requests', { channel: 'telegram', external_id: externalId });
    expect(response.statusCode).toBe(201);
    return { ...response.json<{ id: string; code: string }>(), externalId };
  }

  const notices = async (driver: ChatDriver, sender: Sender) => {
    await t.app.services.chatNotices.drain();
    return driver.messagesTo(platform.take(), sender);
  };

  describe.each(CHANNELS)('on %s', (channel) => {
    const d = () => drivers[channel];

    it('/link asks for a link request and answers with the code, what it is for, and its lifetime; again renews it', async () => {
      const sender = d().newSender();
      const first = await d().link(sender);
      expect(first).toMatch(CODE_REPLY);
      expect(first).toContain('read it to the person helping you');
      expect(first).toContain(`send /link ${codeOf(first)} from an account of yours that is already verified`);
      expect(first).toContain('It expires in 1 hour.');
      const [request, ...more] = await requestsOf(channel, sender.externalId);
      expect(more).toEqual([]);
      expect(request).toMatchObject({ channel, external_id: sender.externalId, status: 'pending' });

      const second = await d().link(sender);
      expect(codeOf(second)).not.toBe(codeOf(first));
      expect(second).toContain('Any code you were given before no longer works.');
      expect((await requestsOf(channel, sender.externalId)).map((r) => r.id)).toEqual([request?.id]);
      // The first code is void: the operator who types it gets the same 400 as for any wrong code.
      const customer = await createCustomer(t.app);
      const old = await admin('POST', '/v1/link-requests/redeem', { code: codeOf(first), customer_id: customer.id });
      expect(old.statusCode).toBe(400);
      const redeemed = await admin('POST', '/v1/link-requests/redeem', {
        code: codeOf(second),
        customer_id: customer.id,
      });
      expect(redeemed.statusCode).toBe(200);
      expect((await lookup(channel, sender.externalId)).json()).toMatchObject({
        customer_id: customer.id,
        verified_via: 'link_request',
      });
    });

    it('/link from an account that is linked already says so, and asks for nothing', async () => {
      const { sender } = await linkedSender(d(), false);
      expect(await d().link(sender)).toMatch(/^This \w+ account is already linked/);
      expect(await requestsOf(channel, sender.externalId)).toEqual([]);
    });

    it('/link CODE from a verified account adds the code’s account to it, verified by linked_identity', async () => {
      const { sender, customer } = await linkedSender(d());
      const request = await apiRequest();
      const reply = await d().link(sender, `${request.code.slice(0, 4).toLowerCase()}-${request.code.slice(4)}`);
      expect(reply).toBe(
        `Done! The Telegram account ending in ${request.externalId.slice(-4)} is now linked to your account, and verified.`,
      );
      expect(reply).not.toContain(request.externalId);
      const found = (await lookup('telegram', request.externalId)).json();
      expect(found).toMatchObject({ customer_id: customer.id, verified: true, verified_via: 'linked_identity' });
      expect((await admin('GET', `/v1/link-requests/${request.id}`)).json()).toMatchObject({ status: 'approved' });
      // An API request has nobody on a chat to tell.
      expect(await notices(d(), sender)).toEqual([]);
    });

    it('/link CODE from an unknown or unverified account gets the answer of any wrong code, and changes nothing', async () => {
      const request = await apiRequest();
      const unknown = d().newSender();
      const { sender: unverified } = await linkedSender(d(), false);
      const { sender: verified } = await linkedSender(d());
      const answers = [
        await d().link(unknown, request.code),
        await d().link(unverified, request.code),
        await d().link(verified, 'WRONG234'),
      ];
      expect(answers.every((a) => INVALID.test(a ?? ''))).toBe(true);
      expect(new Set(answers).size).toBe(1);
      expect((await admin('GET', `/v1/link-requests/${request.id}`)).json()).toMatchObject({ status: 'pending' });
      expect((await lookup('telegram', request.externalId)).statusCode).toBe(404);
    });

    it('after 5 wrong codes within the hour, the sender is refused even with the right code', async () => {
      const { sender } = await linkedSender(d());
      const request = await apiRequest();
      for (let i = 0; i < 5; i++) expect(await d().link(sender, `WRONG${i}AB`)).toMatch(INVALID);
      expect(await d().link(sender, request.code)).toMatch(/^Too many attempts\. Please wait (\d+ minutes|1 hour)/);
      expect((await admin('GET', `/v1/link-requests/${request.id}`)).json()).toMatchObject({ status: 'pending' });
    });

    it('a message delivered again is not acted on again', async () => {
      const sender = d().newSender();
      const code = codeOf(await d().link(sender));
      const again = await d().replay();
      // Telegram and WhatsApp stay silent; Slack answers nothing; Discord says it was handled.
      expect(again === undefined || again === 'This request was already handled.').toBe(true);
      // Not renewed: the code given first still works.
      const customer = await createCustomer(t.app);
      expect((await admin('POST', '/v1/link-requests/redeem', { code, customer_id: customer.id })).statusCode).toBe(
        200,
      );
    });

    it('tells the person once when their request is approved, on this channel, to them', async () => {
      const sender = d().newSender();
      await d().link(sender);
      const [request] = await requestsOf(channel, sender.externalId);
      const customer = await createCustomer(t.app, { email: `secret-${channel}@example.com`, name: 'Private Name' });
      const approved = await admin('POST', `/v1/link-requests/${request?.id}/approve`, { customer_id: customer.id });
      expect(approved.statusCode).toBe(200);
      const told = await notices(d(), sender);
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(/^Good news: your link request was approved\. This \w+ account is now linked/);
      // Nothing of the customer reaches the chat.
      expect(told[0]).not.toContain('example.com');
      expect(told[0]).not.toContain('Private Name');
      expect(await notices(d(), sender)).toEqual([]);
    });

    it('tells the person once when their request is rejected', async () => {
      const sender = d().newSender();
      await d().link(sender);
      const [request] = await requestsOf(channel, sender.externalId);
      expect((await admin('POST', `/v1/link-requests/${request?.id}/reject`)).statusCode).toBe(200);
      expect(await notices(d(), sender)).toEqual([
        'Your link request was declined. If you think this is a mistake, please contact the team you were talking to.',
      ]);
      expect(await notices(d(), sender)).toEqual([]);
    });

    it('tries again after the platform fails, and then tells the person exactly once', async () => {
      const sender = d().newSender();
      await d().link(sender);
      const [request] = await requestsOf(channel, sender.externalId);
      let failures = 0;
      platform.respond = (call) => {
        if (!d().isSend(call) || failures > 0) return undefined;
        failures++;
        return { status: 503, body: { ok: false, error_code: 503, description: 'Service Unavailable' } };
      };
      await admin('POST', `/v1/link-requests/${request?.id}/reject`);
      // The failed attempt reached nobody; the retry waits its 10 seconds.
      expect(await notices(d(), sender)).toEqual([]);
      expect(failures).toBe(1);
      const row = await t.app.services.db.kysely
        .selectFrom('chat_notices')
        .selectAll()
        .where('link_request_id', '=', request?.id ?? '')
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'pending', attempts: 1, locked_until: null });
      expect(row.last_error).toContain('503');
      clock.advance(11);
      expect(await notices(d(), sender)).toHaveLength(1);
      clock.advance(3600);
      expect(await notices(d(), sender)).toEqual([]);
      const metrics = (await t.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(new RegExp(`chat_notices_total\\{channel="${channel}",outcome="retrying"\\} 1\\n`));
      expect(metrics).toMatch(new RegExp(`chat_notices_total\\{channel="${channel}",outcome="sent"\\} [1-9]`));
    });
  });

  it('asks in a Telegram group get no code there: the person is sent to a private chat', async () => {
    const sender = drivers.telegram.newSender();
    expect(await drivers.telegram.link(sender, undefined, { group: true })).toBe(
      'To keep your link code to yourself, send /link to me in a private chat.',
    );
    expect(await requestsOf('telegram', sender.externalId)).toEqual([]);
  });

  it('takes /link@OurBot on Telegram, and leaves /link@OtherBot to that bot', async () => {
    const sender = drivers.telegram.newSender();
    expect(await drivers.telegram.link(sender, undefined, { addressee: 'OtherBot' })).toBeUndefined();
    expect(await requestsOf('telegram', sender.externalId)).toEqual([]);
    expect(await drivers.telegram.link(sender, undefined, { addressee: 'acmeidbot' })).toMatch(CODE_REPLY);
    expect(await requestsOf('telegram', sender.externalId)).toHaveLength(1);
  });

  it('limits how often one chat account may ask, as claims are limited', async () => {
    const sender = drivers.whatsapp.newSender();
    for (let i = 0; i < 7; i++) expect(await drivers.whatsapp.link(sender)).toMatch(CODE_REPLY);
    expect(await drivers.whatsapp.link(sender)).toMatch(/^Too many attempts\./);
  });

  it('gives up a notice the platform refuses for good, and never sends it again', async () => {
    const sender = drivers.discord.newSender();
    await drivers.discord.link(sender);
    const [request] = await requestsOf('discord', sender.externalId);
    platform.respond = (call) =>
      call.path.endsWith('/messages')
        ? { status: 403, body: { message: 'Cannot send messages to this user', code: 50007 } }
        : undefined;
    await admin('POST', `/v1/link-requests/${request?.id}/reject`);
    await t.app.services.chatNotices.drain();
    const row = await t.app.services.db.kysely
      .selectFrom('chat_notices')
      .selectAll()
      .where('link_request_id', '=', request?.id ?? '')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    clock.advance(3600);
    platform.take();
    await t.app.services.chatNotices.drain();
    expect(platform.take()).toEqual([]);
  });
});
