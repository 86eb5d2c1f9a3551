import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config.js';
import { DiscordApiError, registerDiscordCommands } from '../features/channels/discord-api.js';

const SNOWFLAKE = /^\d{1,20}$/;

function snowflake(value: string): string {
  if (!SNOWFLAKE.test(value.trim())) throw new InvalidArgumentError('must be a Discord id (digits only)');
  return value.trim();
}

/** What to do about each answer of Discord's that refuses the registration. */
function explain(error: DiscordApiError, guildId: string | undefined): string {
  switch (error.status) {
    case 401:
      return 'Discord refused DISCORD_BOT_TOKEN (401 Unauthorized). Copy the token again from the Developer Portal (your application → Bot → Reset Token).';
    case 403:
      return guildId
        ? `Discord refused to register the commands in server ${guildId} (403): invite the application to that server with the applications.commands scope first.`
        : 'Discord refused to register the commands (403): DISCORD_BOT_TOKEN belongs to another application than DISCORD_APPLICATION_ID?';
    case 404:
      return `Discord knows no such application${guildId ? ' or server' : ''} (404): check DISCORD_APPLICATION_ID (General Information → Application ID)${guildId ? ' and --guild' : ''}.`;
    default:
      return error.message;
  }
}

export function registerDiscordCliCommands(program: Command) {
  const discord = program.command('discord').description('set up the Discord channel');

  discord
    .command('register-commands')
    .description(
      'register the /claim and /link slash commands with Discord (globally, or in one server with --guild); ' +
        'reads DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN and DISCORD_API_BASE',
    )
    .option('--guild <id>', 'register in this server only (they appear at once there; for testing)', snowflake)
    .action(async (options: { guild?: string }) => {
      const { discord: settings } = loadConfig();
      const missing = [
        settings.applicationId ? undefined : 'DISCORD_APPLICATION_ID (General Information → Application ID)',
        settings.botToken ? undefined : 'DISCORD_BOT_TOKEN (Bot → Reset Token)',
      ].filter(Boolean);
      if (missing.length > 0 || !settings.applicationId) {
        throw new Error(
          `not set: ${missing.join(', ')}. See your application's page in Discord's Developer Portal (discord.com/developers/applications).`,
        );
      }
      if (!SNOWFLAKE.test(settings.applicationId)) throw new Error('DISCORD_APPLICATION_ID must be digits only');
      let names: string[];
      try {
        names = await registerDiscordCommands(
          { applicationId: settings.applicationId, botToken: settings.botToken, apiBase: settings.apiBase },
          { guildId: options.guild },
        );
      } catch (error) {
        if (error instanceof DiscordApiError) throw new Error(explain(error, options.guild));
        throw error;
      }
      const list = names.map((name) => `/${name}`).join(' and ');
      process.stdout.write(
        options.guild
          ? `Registered ${list} in server ${options.guild}.\n`
          : `Registered ${list} globally: usable in every server the application is in, and in direct messages with the bot.\n`,
      );
    });
}
