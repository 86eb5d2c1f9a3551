import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiscordApiError, sendDiscordDirectMessage } from '../../src/features/channels/discord-api.js';
import { FakePlatform } from './fake-platform.js';

// The sender the chat-notice outbox calls to tell a person that their link request was decided
// (the whole path is in link.test.ts); here its calls and errors, against a fake Discord API on loopback.

const BOT_TOKEN = 'MTE5MDAwMDAwMDAwMDAwMDAwMQ.GxYz12.bot-token-that-must-never-be-logged';

describe('a direct message on Discord', () => {
  const platform = new FakePlatform();
  beforeAll(() => platform.start());
  afterAll(() => platform.stop());
  beforeEach(() => {
    platform.respond = undefined;
    platform.take();
  });
  const settings = () => ({ botToken: BOT_TOKEN, apiBase: platform.baseUrl });

  it('opens the DM channel with the person, then posts the text there, as the bot', async () => {
    await sendDiscordDirectMessage(settings(), {
      recipientId: '80351110224678912',
      text: 'Your request was approved.',
    });
    const [open, post, ...rest] = platform.take();
    expect(rest).toEqual([]);
    expect(open).toMatchObject({
      method: 'POST',
      path: '/users/@me/channels',
      body: { recipient_id: '80351110224678912' },
    });
    expect(open?.headers.authorization).toBe(`Bot ${BOT_TOKEN}`);
    // The fake answers with channel id 7035…: the message goes to that channel, not to the user id.
    expect(post).toMatchObject({
      method: 'POST',
      path: '/channels/70351110224678912/messages',
      body: { content: 'Your request was approved.', allowed_mentions: { parse: [] } },
    });
    expect(post?.headers.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(post?.headers['content-type']).toBe('application/json');
  });

  it('fails with what Discord said when it refuses, and never with the token', async () => {
    platform.respond = (call) =>
      call.path.endsWith('/messages')
        ? { status: 403, body: { message: 'Cannot send messages to this user', code: 50007 } }
        : undefined;
    const refused = await sendDiscordDirectMessage(settings(), { recipientId: '80351110224678912', text: 'Hi' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(DiscordApiError);
    expect(refused).toMatchObject({ status: 403 });
    expect(String((refused as Error).message)).toBe(
      'Discord API answered 403 to POST /channels/{id}/messages: Cannot send messages to this user',
    );

    platform.respond = () => ({ status: 401, body: { message: '401: Unauthorized', code: 0 } });
    const unauthorized = (await sendDiscordDirectMessage(settings(), { recipientId: '1', text: 'Hi' }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(unauthorized.message).toBe('Discord API answered 401 to POST /users/@me/channels: 401: Unauthorized');
    for (const error of [refused, unauthorized]) {
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('bot-token-that');
    }
  });

  it('fails plainly when Discord cannot be reached or no token is set, sending nothing', async () => {
    const down = (await sendDiscordDirectMessage(
      { botToken: BOT_TOKEN, apiBase: 'http://127.0.0.1:9' },
      { recipientId: '1', text: 'Hi' },
    ).catch((e: unknown) => e)) as Error;
    expect(down.message).toMatch(/^Discord API did not answer POST \/users\/@me\/channels: /);
    expect(JSON.stringify(down, Object.getOwnPropertyNames(down))).not.toContain('bot-token-that');
    // An address fetch cannot even parse: its own message would quote the URL; ours does not.
    const unparsable = (await sendDiscordDirectMessage(
      { botToken: BOT_TOKEN, apiBase: 'http://[bot-token-that-must-never-be-logged' },
      { recipientId: '1', text: 'Hi' },
    ).catch((e: unknown) => e)) as Error;
    expect(unparsable.message).toBe('Discord API did not answer POST /users/@me/channels: Invalid URL');
    expect(JSON.stringify(unparsable, Object.getOwnPropertyNames(unparsable))).not.toContain('bot-token-that');
    await expect(
      sendDiscordDirectMessage({ botToken: undefined, apiBase: platform.baseUrl }, { recipientId: '1', text: 'Hi' }),
    ).rejects.toThrow('DISCORD_BOT_TOKEN is not set');
    expect(platform.take()).toEqual([]);
  });
});
