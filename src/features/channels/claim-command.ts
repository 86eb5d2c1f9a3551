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

/** `/link` alone asks for a link code; `/link CODE` adds the code's account to the sender's. */
function linkOf(rest: string): ChatCommand {
  const code = rest.trim();
  return { kind: 'link', code: code === '' ? undefined : code };
}

/** A link code as people type it (any case, with spaces or a hyphen): 8 letters and digits. */
const LINK_CODE_LIKE = /^[A-Za-z0-9]{8}$/;

/**
 * A Telegram message text: `/claim CODE`, `/claim@OurBot CODE`, `/start claim_CODE` (the deep
 * link), or `/link [CODE]` (`/link@OurBot [CODE]`). A command addressed to another bot
 * (`/claim@OtherBot`, in a group) is not ours. When the bot's username is not configured, any
 * addressee is accepted rather than calling getMe.
 */
export function parseTelegramText(text: string, botUsername?: string): ChatCommand | undefined {
  const match = /^\/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, command = '', addressee, rest = ''] = match;
  if (addressee && botUsername && addressee.toLowerCase() !== botUsername.toLowerCase()) return undefined;
  switch (command.toLowerCase()) {
    case 'claim':
      return claimOf(rest);
    case 'link':
      return linkOf(rest);
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

/**
 * A WhatsApp text: `/claim CODE` or `claim CODE` (people often leave out the slash), `/link` or
 * `/link CODE`. Without the slash, `link` is ours only alone or followed by what looks like a code:
 * "link my account please" is a person talking, and must not use up one of their guesses.
 */
export function parseWhatsAppText(text: string): ChatCommand | undefined {
  const trimmed = text.trim();
  const claim = /^\/?claim(?:\s+([\s\S]*))?$/i.exec(trimmed);
  if (claim) return claimOf(claim[1] ?? '');
  const link = /^(\/?)link(?:\s+([\s\S]*))?$/i.exec(trimmed);
  if (!link) return undefined;
  const rest = link[2] ?? '';
  if (link[1] === '' && rest.trim() !== '' && !LINK_CODE_LIKE.test(rest.replace(/[\s-]+/g, ''))) return undefined;
  return linkOf(rest);
}

/**
 * A Slack slash command: `command` is the command's name as the workspace registered it, `text`
 * what follows (`/claim K7MQ2X` sends `command=/claim&text=K7MQ2X`). `/link` (or a name ending in
 * `-link` or `_link`, for a workspace where `/link` is taken) asks for or redeems a link code;
 * any other name is the claim command, whatever the workspace called it.
 */
export function parseSlackText(text: string, command = '/claim'): ChatCommand {
  return isSlackLinkCommand(command) ? linkOf(text) : claimOf(text);
}

export const isSlackLinkCommand = (command: string) => /^\/(?:link|.+[-_]link)$/i.test(command.trim());
