import { discordCommands } from './discord-interactions.js';
import { NotConfiguredError, PlatformCallError } from './platform-call.js';

export interface DiscordSettings {
  botToken: string | undefined;
  /** `DISCORD_API_BASE`, e.g. https://discord.com/api/v10, without a trailing slash. */
  apiBase: string;
}

const TIMEOUT_MS = 10_000;
/** Our texts never mention anyone; Discord must not turn any part of them into a ping either. */
const NO_MENTIONS = { parse: [] };

/** An answer of Discord's API other than a 2xx. `what` names the call; never a token (in the URL or not). */
export class DiscordApiError extends PlatformCallError {
  override name = 'DiscordApiError';
  constructor(
    override readonly status: number,
    readonly what: string,
    detail: string,
  ) {
    super(`Discord API answered ${status} to ${what}${detail ? `: ${detail}` : ''}`, status, false);
  }
}

/**
 * One call to Discord's REST API, a plain fetch: each is one JSON body, and discord.js would add
 * megabytes for it. `what` (method and path with any token left out) is all an error says, so
 * that neither the bot token (a header) nor an interaction token (in a webhook's path) reaches a log.
 */
async function discordCall(
  url: string,
  init: { method: string; what: string; botToken?: string | undefined; body?: unknown },
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method,
      headers: {
        ...(init.botToken ? { authorization: `Bot ${init.botToken}` } : {}),
        'content-type': 'application/json',
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new PlatformCallError(
      `Discord API did not answer ${init.what}: ${whyUnanswered(error)}`,
      undefined,
      timedOut,
    );
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) throw new DiscordApiError(response.status, init.what, messageOf(text));
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why fetch failed, in words that hold no URL: undici's "fetch failed" carries the reason in its
 * cause (`connect ECONNREFUSED …`), while its own message may quote the URL, token and all.
 */
function whyUnanswered(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  if (error.cause instanceof Error) return error.cause.message;
  return error.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : error.name;
}

/** Discord's error body is `{"message": "401: Unauthorized", "code": 0, "errors"?: {...}}`. */
function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const message = typeof body.message === 'string' ? body.message : '';
    return body.errors ? `${message} ${JSON.stringify(body.errors)}`.slice(0, 500) : message;
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * Sends a person a direct message from the bot: opens (or finds) the DM channel with
 * `POST /users/@me/channels {recipient_id}`, then posts to it. Throws a DiscordApiError when
 * Discord refuses (403 when the person accepts no DMs from the bot, 401 for a bad token).
 */
export async function sendDiscordDirectMessage(
  settings: DiscordSettings,
  input: { recipientId: string; text: string },
): Promise<void> {
  if (!settings.botToken) throw new NotConfiguredError('DISCORD_BOT_TOKEN');
  const channel = await discordCall(`${settings.apiBase}/users/@me/channels`, {
    method: 'POST',
    what: 'POST /users/@me/channels',
    botToken: settings.botToken,
    body: { recipient_id: input.recipientId },
  });
  const channelId = typeof channel === 'object' && channel !== null ? (channel as { id?: unknown }).id : undefined;
  if (typeof channelId !== 'string' || !/^\d{1,20}$/.test(channelId)) {
    throw new Error('Discord API answered POST /users/@me/channels without a channel id');
  }
  await discordCall(`${settings.apiBase}/channels/${channelId}/messages`, {
    method: 'POST',
    what: 'POST /channels/{id}/messages',
    botToken: settings.botToken,
    body: { content: input.text, allowed_mentions: NO_MENTIONS },
  });
}

/**
 * Replaces the answer of a deferred interaction (the "thinking…" message) with the text, through
 * the interaction's webhook: `PATCH /webhooks/{application id}/{interaction token}/messages/@original`.
 * No bot token: the interaction's own token (valid 15 minutes) is the credential.
 */
export async function editDiscordInteractionReply(
  apiBase: string,
  input: { applicationId: string; interactionToken: string; text: string },
): Promise<void> {
  const path = `/webhooks/${encodeURIComponent(input.applicationId)}/${encodeURIComponent(input.interactionToken)}/messages/@original`;
  await discordCall(`${apiBase}${path}`, {
    method: 'PATCH',
    what: 'PATCH /webhooks/{application}/{token}/messages/@original',
    body: { content: input.text, allowed_mentions: NO_MENTIONS },
  });
}

/**
 * Registers `/claim` and `/link` (a bulk overwrite: commands of this application that are not in
 * the list are removed), globally or in one server (`guildId`: at once, for testing).
 * Returns the names Discord registered.
 */
export async function registerDiscordCommands(
  settings: DiscordSettings & { applicationId: string },
  options: { guildId?: string | undefined } = {},
): Promise<string[]> {
  const app = encodeURIComponent(settings.applicationId);
  const path = options.guildId
    ? `/applications/${app}/guilds/${encodeURIComponent(options.guildId)}/commands`
    : `/applications/${app}/commands`;
  const registered = await discordCall(`${settings.apiBase}${path}`, {
    method: 'PUT',
    what: options.guildId ? 'PUT /applications/{id}/guilds/{guild}/commands' : 'PUT /applications/{id}/commands',
    botToken: settings.botToken,
    body: discordCommands(options.guildId ? 'guild' : 'global'),
  });
  return Array.isArray(registered)
    ? registered.map((c) => (typeof c === 'object' && c !== null ? String((c as { name?: unknown }).name) : ''))
    : [];
}
