/**
 * What a chat message asks of us: a claim with a code, a bare `/claim` (answered with usage help),
 * `/link` with or without a code, or nothing we handle (ignored, so that the bot stays quiet about
 * everything else). Answered by `answerChatCommand` (chat-commands.ts) on every channel.
 */
export type ChatCommand =
  | { kind: 'claim'; code: string }
  | { kind: 'usage' }
  | { kind: 'link'; code: string | undefined };

/** Telegram's limit for a `/start` deep-link payload, and its alphabet. */
const DEEP_LINK_PAYLOAD = /^[A-Za-z0-9_-]{1,64}$/;
/** The payload the dashboard's link carries: `claim_<CODE>` (`https://t.me/<bot>?start=claim_K7MQ2X`). */
export const DEEP_LINK_PREFIX = 'claim_';

/** Link that opens the bot and sends `/start claim_<CODE>` with one tap. */
export function telegramDeepLink(botUsername: string, code: string): string {
  return `https://t.me/${encodeURIComponent(botUsername.replace(/^@/, ''))}?start=${DEEP_LINK_PREFIX}${code}`;
}

function claimOf(rest: string): ChatCommand {
  const code = rest.trim();
  return code === '' ? { kind: 'usage' } : { kind: 'claim', code };
}

/**
 * A Telegram message text: `/claim CODE`, `/claim@OurBot CODE`, or `/start claim_CODE` (the deep
 * link). A command addressed to another bot (`/claim@OtherBot`, in a group) is not ours. When the
 * bot's username is not configured, any addressee is accepted rather than calling getMe.
 */
export function parseTelegramText(text: string, botUsername?: string): ChatCommand | undefined {
  const match = /^\/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, command = '', addressee, rest = ''] = match;
  if (addressee && botUsername && addressee.toLowerCase() !== botUsername.toLowerCase()) return undefined;
  switch (command.toLowerCase()) {
    case 'claim':
      return claimOf(rest);
    case 'start':
      return parseDeepLinkPayload(rest.trim());
    default:
      return undefined;
  }
}

/** `claim_K7MQ2X` → the code; any other `/start` payload (or none) is not a claim. */
export function parseDeepLinkPayload(payload: string): ChatCommand | undefined {
  if (!DEEP_LINK_PAYLOAD.test(payload)) return undefined;
  if (payload.slice(0, DEEP_LINK_PREFIX.length).toLowerCase() !== DEEP_LINK_PREFIX) return undefined;
  const code = payload.slice(DEEP_LINK_PREFIX.length);
  return code === '' ? { kind: 'usage' } : { kind: 'claim', code };
}

/** A WhatsApp text: `/claim CODE` or `claim CODE` (people often leave out the slash). */
export function parseWhatsAppText(text: string): ChatCommand | undefined {
  const match = /^\/?claim(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return undefined;
  return claimOf(match[1] ?? '');
}

/** A Slack slash command's `text`: the code itself (`/claim K7MQ2X` sends `text=K7MQ2X`). */
export function parseSlackText(text: string): ChatCommand {
  return claimOf(text);
}
