import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakePlatform } from '../channels/fake-platform.js';
import { runCli } from '../helpers/cli.js';

const APPLICATION_ID = '1190000000000000001';
const BOT_TOKEN = 'MTE5MDAwMDAwMDAwMDAwMDAwMQ.GxYz12.register-token-never-printed';

describe('identity-service discord register-commands', () => {
  const discord = new FakePlatform();
  beforeAll(() => discord.start());
  afterAll(() => discord.stop());
  beforeEach(() => {
    discord.respond = undefined;
    discord.take();
  });

  /** Runs the command line from the sources with only the Discord settings given. */
  const cli = (env: Record<string, string>, ...args: string[]) =>
    runCli(['discord', 'register-commands', ...args], { LOG_LEVEL: 'silent', ...env }, { inheritEnv: false });
  const settings = () => ({
    DISCORD_APPLICATION_ID: APPLICATION_ID,
    DISCORD_BOT_TOKEN: BOT_TOKEN,
    DISCORD_API_BASE: `${discord.baseUrl}/api/v10/`,
  });

  it('registers /claim and /link globally, usable in direct messages, with the bot token', async () => {
    const { code, stdout } = await cli(settings());
    expect(code).toBe(0);
    expect(stdout).toBe(
      'Registered /claim and /link globally: usable in every server the application is in, and in direct messages with the bot.\n',
    );
    const [call, ...rest] = discord.take();
    expect(rest).toEqual([]);
    expect(call?.method).toBe('PUT');
    expect(call?.path).toBe(`/api/v10/applications/${APPLICATION_ID}/commands`);
    expect(call?.headers.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(call?.headers['content-type']).toBe('application/json');
    const usableInDms = { dm_permission: true, contexts: [0, 1] };
    expect(call?.body).toEqual([
      expect.objectContaining({
        name: 'claim',
        type: 1,
        description: expect.stringMatching(/\S/),
        options: [expect.objectContaining({ name: 'code', type: 3, required: true, description: expect.any(String) })],
        ...usableInDms,
      }),
      expect.objectContaining({
        name: 'link',
        type: 1,
        description: expect.stringMatching(/\S/),
        options: [expect.objectContaining({ name: 'code', type: 3, required: false, description: expect.any(String) })],
        ...usableInDms,
      }),
    ]);
    // Discord's limits: descriptions of 1 to 100 characters, lowercase names.
    for (const command of (call?.body ?? []) as unknown as {
      description: string;
      options: { description: string }[];
    }[]) {
      for (const text of [command.description, ...command.options.map((o) => o.description)]) {
        expect(text.length).toBeLessThanOrEqual(100);
      }
    }
  });

  it('registers them in one server with --guild', async () => {
    const { code, stdout } = await cli(settings(), '--guild', '1170000000000000001');
    expect(code).toBe(0);
    expect(stdout).toBe('Registered /claim and /link in server 1170000000000000001.\n');
    const [call] = discord.take();
    expect(call?.method).toBe('PUT');
    expect(call?.path).toBe(`/api/v10/applications/${APPLICATION_ID}/guilds/1170000000000000001/commands`);
    expect(call?.headers.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(((call?.body ?? []) as unknown as { name: string }[]).map((c) => c.name)).toEqual(['claim', 'link']);
  });

  it('says which setting is missing, and calls nobody', async () => {
    const noToken = await cli({ ...settings(), DISCORD_BOT_TOKEN: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^error: not set: DISCORD_BOT_TOKEN \(Bot → Reset Token\)/);
    const nothing = await cli({ DISCORD_API_BASE: discord.baseUrl });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/not set: DISCORD_APPLICATION_ID .*, DISCORD_BOT_TOKEN/);
    const badGuild = await cli(settings(), '--guild', 'my-server');
    expect(badGuild.code).toBe(1);
    expect(badGuild.stderr).toMatch(/--guild <id>' argument 'my-server' is invalid/);
    expect(discord.take()).toEqual([]);
  });

  it('says so clearly when Discord refuses the token, without printing it', async () => {
    discord.respond = () => ({ status: 401, body: { message: '401: Unauthorized', code: 0 } });
    const refused = await cli(settings());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'error: Discord refused DISCORD_BOT_TOKEN (401 Unauthorized). Copy the token again from the Developer Portal (your application → Bot → Reset Token).\n',
    );
    expect(refused.stdout).toBe('');
    discord.respond = () => ({ status: 403, body: { message: 'Missing Access', code: 50001 } });
    const notInServer = await cli(settings(), '--guild', '1170000000000000009');
    expect(notInServer.stderr).toMatch(/in server 1170000000000000009 \(403\): invite the application/);
    for (const output of [refused, notInServer]) {
      expect(output.stderr + output.stdout).not.toContain('register-token-never-printed');
    }
  });
});
