import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { FakePlatform, RecordedCall } from './fake-platform.js';

// The four chat channels driven as their platforms drive them (signed webhooks of the platforms'
// own shapes), so that one test can say "on every channel": send `/link` as a person, read the
// answer, and find the messages the service sent that person later through the fake platform.

export const TELEGRAM_TOKEN = '7000000001:AAH-link-test-token';
const TELEGRAM_SECRET = 'telegram-webhook-secret_0123456789abcdef';
const SLACK_SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const SLACK_BOT_TOKEN = 'xoxb-17653672481-19874698323-link-test';
const WHATSAPP_APP_SECRET = 'whatsapp-app-secret';
export const WHATSAPP_TOKEN = 'EAAG-link-test-token';
const PHONE_NUMBER_ID = '106540352242922';
export const DISCORD_BOT_TOKEN = 'MTE5MDAwMDAwMDAwMDAwMDAwMQ.GxYz12.link-test-bot-token';
const DISCORD_APPLICATION_ID = '1190000000000000001';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const DISCORD_PUBLIC_KEY = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('hex');

/** Every channel on, each talking to the fake platform. */
export const chatEnv = (platform: FakePlatform): Record<string, string> => ({
  TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
  TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
  TELEGRAM_BOT_USERNAME: 'AcmeIdBot',
  TELEGRAM_API_BASE: platform.baseUrl,
  SLACK_SIGNING_SECRET,
  SLACK_BOT_TOKEN,
  SLACK_API_BASE: `${platform.baseUrl}/slack`,
  WHATSAPP_VERIFY_TOKEN: 'whatsapp-verify-token',
  WHATSAPP_APP_SECRET,
  WHATSAPP_ACCESS_TOKEN: WHATSAPP_TOKEN,
  WHATSAPP_API_BASE: `${platform.baseUrl}/v21.0`,
  DISCORD_PUBLIC_KEY,
  DISCORD_BOT_TOKEN,
  DISCORD_API_BASE: `${platform.baseUrl}/discord`,
});

export type ChannelName = 'telegram' | 'slack' | 'whatsapp' | 'discord';

export interface Sender {
  /** The id as the platform writes it. */
  platformId: string;
  /** The external id the service keeps for it. */
  externalId: string;
}

export interface ChatDriver {
  channel: ChannelName;
  newSender(): Sender;
  /**
   * Sends `/link` (no code) or `/link CODE` as the sender and returns the answer the person sees
   * (undefined when none came). `group`: in a group chat (Telegram only).
   */
  link(sender: Sender, code?: string, options?: { group?: boolean; addressee?: string }): Promise<string | undefined>;
  /** The last message delivered again, byte for byte; the answer, if any. */
  replay(): Promise<string | undefined>;
  /** The texts of the messages among `calls` that reached the sender (the platform took them). */
  messagesTo(calls: RecordedCall[], sender: Sender): string[];
  /** Whether a recorded call is one this channel makes to send a message (to fail it on purpose). */
  isSend(call: RecordedCall): boolean;
}

let counter = 0;
const next = () => ++counter;

export function chatDrivers(
  app: () => FastifyInstance,
  platform: FakePlatform,
  nowSeconds: () => number,
): Record<ChannelName, ChatDriver> {
  let lastSent: () => Promise<string | undefined> = async () => undefined;

  /** Sends a request and reads the answer: from the HTTP answer, or from the platform's calls. */
  async function deliver(
    send: () => Promise<LightMyRequestResponse>,
    answerOf: (body: Record<string, unknown>, calls: RecordedCall[]) => string | undefined,
  ): Promise<string | undefined> {
    platform.take();
    const response = await send();
    if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
    const body = response.body ? (response.json() as Record<string, unknown>) : {};
    return answerOf(body, platform.take());
  }

  const telegram: ChatDriver = {
    channel: 'telegram',
    newSender() {
      const id = String(7_100_000_000 + next());
      return { platformId: id, externalId: id };
    },
    async link(sender, code, options = {}) {
      const id = Number(sender.platformId);
      const command = options.addressee ? `/link@${options.addressee}` : '/link';
      const text = code === undefined ? command : `${command} ${code}`;
      const updateId = 50_000 + next();
      const update = {
        update_id: updateId,
        message: {
          message_id: updateId,
          from: { id, is_bot: false, first_name: 'Steve', language_code: 'en' },
          chat: options.group
            ? { id: -1001234567890, title: 'Acme support', type: 'supergroup' }
            : { id, first_name: 'Steve', type: 'private' },
          date: 1_732_530_000,
          text,
          entities: [{ offset: 0, length: command.length, type: 'bot_command' }],
        },
      };
      const send = () =>
        deliver(
          () =>
            app().inject({
              method: 'POST',
              url: '/v1/channels/telegram/webhook',
              headers: { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
              payload: update,
            }),
          (_body, calls) => {
            const reply = calls.find((c) => c.path === `/bot${TELEGRAM_TOKEN}/sendMessage`);
            return reply ? String(reply.body.text) : undefined;
          },
        );
      lastSent = send;
      return send();
    },
    replay: () => lastSent(),
    messagesTo: (calls, sender) =>
      calls
        .filter(
          (c) =>
            c.status === 200 &&
            c.path === `/bot${TELEGRAM_TOKEN}/sendMessage` &&
            c.body.chat_id === Number(sender.platformId),
        )
        .map((c) => String(c.body.text)),
    isSend: (call) => call.path.endsWith('/sendMessage'),
  };

  const slack: ChatDriver = {
    channel: 'slack',
    newSender() {
      const id = `U0LINK${String(next()).padStart(4, '0')}`;
      return { platformId: id, externalId: id };
    },
    async link(sender, code) {
      const body = new URLSearchParams({
        team_id: 'T0001',
        team_domain: 'acme',
        channel_id: 'C0PUBLIC1',
        channel_name: 'general',
        user_id: sender.platformId,
        user_name: 'steve',
        command: '/link',
        text: code ?? '',
        api_app_id: 'A123456',
        response_url: 'https://hooks.slack.com/commands/1234/5678',
        trigger_id: `13345224609.738474920.${next()}`,
      }).toString();
      const timestamp = nowSeconds();
      const signature = `v0=${createHmac('sha256', SLACK_SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
      const send = () =>
        deliver(
          () =>
            app().inject({
              method: 'POST',
              url: '/v1/channels/slack/commands',
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'x-slack-request-timestamp': String(timestamp),
                'x-slack-signature': signature,
              },
              payload: body,
            }),
          (answer) => (typeof answer.text === 'string' ? answer.text : undefined),
        );
      lastSent = send;
      return send();
    },
    replay: () => lastSent(),
    messagesTo: (calls, sender) =>
      calls
        .filter(
          (c) =>
            c.status === 200 &&
            c.path === '/slack/chat.postMessage' &&
            c.body.channel === sender.platformId &&
            c.headers.authorization === `Bearer ${SLACK_BOT_TOKEN}`,
        )
        .map((c) => String(c.body.text)),
    isSend: (call) => call.path.endsWith('/chat.postMessage'),
  };

  const whatsappText = (call: RecordedCall) => String((call.body.text as { body?: string } | undefined)?.body);
  const whatsapp: ChatDriver = {
    channel: 'whatsapp',
    newSender() {
      const digits = `1650555${String(next()).padStart(4, '0')}`;
      return { platformId: digits, externalId: `+${digits}` };
    },
    async link(sender, code) {
      const payload = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
                  contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: sender.platformId }],
                  messages: [
                    {
                      from: sender.platformId,
                      id: `wamid.LINK${next()}`,
                      timestamp: '1749416383',
                      type: 'text',
                      text: { body: code === undefined ? '/link' : `/link ${code}` },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      const signature = `sha256=${createHmac('sha256', WHATSAPP_APP_SECRET).update(payload).digest('hex')}`;
      const send = () =>
        deliver(
          () =>
            app().inject({
              method: 'POST',
              url: '/v1/channels/whatsapp/webhook',
              headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
              payload,
            }),
          (_body, calls) => {
            const reply = calls.find((c) => c.path === `/v21.0/${PHONE_NUMBER_ID}/messages`);
            return reply ? whatsappText(reply) : undefined;
          },
        );
      lastSent = send;
      return send();
    },
    replay: () => lastSent(),
    messagesTo: (calls, sender) =>
      calls
        .filter(
          (c) =>
            c.status === 200 &&
            c.path === `/v21.0/${PHONE_NUMBER_ID}/messages` &&
            c.body.to === sender.platformId &&
            c.body.context === undefined &&
            c.headers.authorization === `Bearer ${WHATSAPP_TOKEN}`,
        )
        .map(whatsappText),
    isSend: (call) => call.path.endsWith('/messages') && call.path.startsWith('/v21.0/'),
  };

  const discord: ChatDriver = {
    channel: 'discord',
    newSender() {
      const id = `8035111022${String(next()).padStart(7, '0')}`;
      return { platformId: id, externalId: id };
    },
    async link(sender, code) {
      const id = `13500000000${String(next()).padStart(7, '0')}`;
      const body = JSON.stringify({
        id,
        application_id: DISCORD_APPLICATION_ID,
        type: 2,
        token: `aW50ZXJhY3Rpb246${id}:secret-interaction-token`,
        version: 1,
        data: {
          id: '1200000000000000002',
          name: 'link',
          type: 1,
          ...(code === undefined ? {} : { options: [{ name: 'code', type: 3, value: code }] }),
        },
        context: 0,
        guild_id: '1170000000000000001',
        channel_id: '1180000000000000001',
        member: { user: { id: sender.platformId, username: 'steve' }, roles: [] },
      });
      const timestamp = String(nowSeconds());
      const signature = sign(null, Buffer.from(timestamp + body), privateKey).toString('hex');
      const send = () =>
        deliver(
          () =>
            app().inject({
              method: 'POST',
              url: '/v1/channels/discord/interactions',
              headers: {
                'content-type': 'application/json',
                'x-signature-ed25519': signature,
                'x-signature-timestamp': timestamp,
              },
              payload: body,
            }),
          (answer) => {
            const data = answer.data as { content?: unknown; flags?: unknown } | undefined;
            if (answer.type !== 4 || data?.flags !== 64)
              throw new Error(`not an ephemeral answer: ${JSON.stringify(answer)}`);
            return typeof data.content === 'string' ? data.content : undefined;
          },
        );
      lastSent = send;
      return send();
    },
    replay: () => lastSent(),
    messagesTo(calls, sender) {
      // The fake opens DM channel 7… for user 8…: a message there is a message to that user.
      const dm = `7${sender.platformId.slice(1)}`;
      const opened = calls.some(
        (c) => c.path === '/discord/users/@me/channels' && c.body.recipient_id === sender.platformId,
      );
      return calls
        .filter(
          (c) =>
            c.status === 200 &&
            c.path === `/discord/channels/${dm}/messages` &&
            c.headers.authorization === `Bot ${DISCORD_BOT_TOKEN}`,
        )
        .map((c) => (opened ? String(c.body.content) : 'a message without opening the DM'));
    },
    isSend: (call) => call.path.startsWith('/discord/'),
  };

  return { telegram, slack, whatsapp, discord };
}

export const CHANNELS: ChannelName[] = ['telegram', 'slack', 'whatsapp', 'discord'];
