import type { ChatCommand } from './claim-command.js';

/** Interaction and response types we use (discord.com/developers/docs/interactions/receiving-and-responding). */
export const InteractionType = { PING: 1, APPLICATION_COMMAND: 2 } as const;
export const ResponseType = { PONG: 1, CHANNEL_MESSAGE: 4, DEFERRED_CHANNEL_MESSAGE: 5 } as const;
/** Message flag: only the invoking user sees the message. */
export const EPHEMERAL = 64;
/** Application command option type STRING. */
const STRING_OPTION = 3;
/** Longer text cannot be a code (the API takes at most 32 characters); Discord refuses it before we see it. */
const MAX_CODE_LENGTH = 32;

/**
 * The commands as `discord register-commands` sends them (global or one server's). Usable in a
 * server and in the bot's direct messages: `contexts` 0 (guild) and 1 (bot DM) for a global
 * command, and the older `dm_permission` that it replaces, for Discord's clients that still read it.
 */
export function discordCommands(scope: 'global' | 'guild') {
  const usableInDms = scope === 'global' ? { dm_permission: true, contexts: [0, 1], integration_types: [0] } : {};
  return [
    {
      name: 'claim',
      type: 1,
      description: 'Verify this Discord account with the claim code you were given',
      options: [
        {
          type: STRING_OPTION,
          name: 'code',
          description: 'The 6-character claim code, e.g. K7MQ2X',
          required: true,
          max_length: MAX_CODE_LENGTH,
        },
      ],
      ...usableInDms,
    },
    {
      name: 'link',
      type: 1,
      description: 'Ask to link this Discord account, or add it to your verified account with a link code',
      options: [
        {
          type: STRING_OPTION,
          name: 'code',
          description: 'A link code, to add this account to yours; leave it out to get a code',
          required: false,
          max_length: MAX_CODE_LENGTH,
        },
      ],
      ...usableInDms,
    },
  ];
}

/** What an interaction asks of us, from the parts of Discord's payload we read. */
export type Interaction =
  | { kind: 'ping' }
  | {
      kind: 'command';
      id: string;
      applicationId: string;
      /** The interaction's token: for a follow-up through its webhook, valid 15 minutes. Never logged. */
      token: string;
      /** `member.user.id` in a server, `user.id` in a direct message. */
      userId: string | undefined;
      /** Undefined for a command that is not ours (registered by hand, or renamed since). */
      command: ChatCommand | undefined;
    }
  | { kind: 'unsupported' };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** The string value of an option of a command, if given. */
function optionOf(data: Record<string, unknown>, name: string): string | undefined {
  if (!Array.isArray(data.options)) return undefined;
  const option = data.options.find((o) => isRecord(o) && o.name === name);
  return isRecord(option) && typeof option.value === 'string' ? option.value : undefined;
}

function commandOf(data: Record<string, unknown>): ChatCommand | undefined {
  const code = optionOf(data, 'code')?.trim();
  switch (data.name) {
    case 'claim':
      return code ? { kind: 'claim', code } : { kind: 'usage' };
    case 'link':
      return { kind: 'link', code: code || undefined };
    default:
      return undefined;
  }
}

/** Reads a (signed) interaction payload; undefined when it is not one. */
export function interactionOf(payload: unknown): Interaction | undefined {
  if (!isRecord(payload) || typeof payload.type !== 'number') return undefined;
  if (payload.type === InteractionType.PING) return { kind: 'ping' };
  if (payload.type !== InteractionType.APPLICATION_COMMAND) return { kind: 'unsupported' };
  const id = asString(payload.id);
  const applicationId = asString(payload.application_id);
  const token = asString(payload.token);
  if (!id || !applicationId || !token || !isRecord(payload.data)) return undefined;
  const member = isRecord(payload.member) && isRecord(payload.member.user) ? payload.member.user : undefined;
  const user = isRecord(payload.user) ? payload.user : undefined;
  return {
    kind: 'command',
    id,
    applicationId,
    token,
    userId: asString(member?.id) ?? asString(user?.id),
    command: commandOf(payload.data),
  };
}
