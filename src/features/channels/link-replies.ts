import { describeDuration } from '../claims/claims.js';

/** How each chat platform is named in a text; any other channel by its own name. */
export const PLATFORM_NAMES: Record<string, string> = {
  telegram: 'Telegram',
  slack: 'Slack',
  whatsapp: 'WhatsApp',
  discord: 'Discord',
};

export const platformName = (channel: string) => PLATFORM_NAMES[channel] ?? channel;

/** A link code as people read it out: two groups of four (`K7MQ-2XPA`); input ignores the hyphen. */
export const displayLinkCode = (code: string) => (code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code);

/**
 * The account a `/link CODE` added, as the chat shows it: the platform and the id's last four
 * characters. The code may have reached the wrong hands (read out in a crowded room): enough for
 * its owner to recognize their own number, not enough to hand anyone else a phone number.
 */
export function describeAccount(channel: string, externalId: string): string {
  const kind = channel === 'whatsapp' && externalId.startsWith('+') ? 'number' : 'account';
  const ending = externalId.length > 4 ? ` ending in ${externalId.slice(-4)}` : '';
  return `${platformName(channel)} ${kind}${ending}`;
}

/**
 * What the bots answer to `/link` and `/link CODE`, and what they send later when a request is
 * decided. Every channel uses these texts (chat-commands.ts); a failed code never says why, so
 * that nobody learns whether a code, or a verified account, exists.
 */
export const linkReplies = {
  /** `/link` from an account nobody has: the code, what it is for, and how long it lives. */
  code: (code: string, ttlSeconds: number, renewed: boolean) =>
    `Your link code is ${displayLinkCode(code)}. It links this account to you: read it to the person ` +
    `helping you, or send /link ${code} from an account of yours that is already verified. ` +
    `It expires in ${describeDuration(ttlSeconds)}.${renewed ? ' Any code you were given before no longer works.' : ''}`,
  alreadyLinked: (channel: string) =>
    `This ${platformName(channel)} account is already linked, so there is nothing to do. ` +
    'If it is linked to the wrong person, please contact the team that runs this bot.',
  /** `/link CODE` worked: the account of the code is now the sender's. */
  linked: (channel: string, externalId: string) =>
    `Done! The ${describeAccount(channel, externalId)} is now linked to your account, and verified.`,
  /** Every failure of `/link CODE`: wrong, expired or spent code, or a sender who may not use one. */
  invalid: () =>
    "Sorry, that link code didn't work. It may be mistyped, already used or expired; and a code can only " +
    'be used from an account that is already verified. Send /link from the account you want to add to get a new code.',
  busy: (retryAfterSeconds: number) =>
    `Sorry, we can't take new link requests right now. Please try again in ${describeDuration(roundUpToMinutes(retryAfterSeconds))}.`,
  /** In a group chat the code would be read by everyone in it. */
  privateOnly: () => 'To keep your link code to yourself, send /link to me in a private chat.',
  unavailable: () => "Sorry, we couldn't handle your link request just now. Please try again in a minute.",
  /**
   * `/link` from an account whose owner was erased and suppressed. It never says why: a phone
   * number or an account may have passed to someone else since, who must not learn that its
   * former owner asked to be forgotten; and unlike `unavailable` it does not ask them to retry.
   * The operator (who can lift a suppression) is where a real mistake gets sorted out.
   */
  refused: () =>
    "Sorry, we can't take a link request from this account. If you think this is a mistake, " +
    'please contact the team that runs this bot.',
  /** The chat notice of a decision on a request made from this chat. */
  approved: (channel: string) =>
    `Good news: your link request was approved. This ${platformName(channel)} account is now linked to your account.`,
  rejected: () =>
    'Your link request was declined. If you think this is a mistake, please contact the team you were talking to.',
};

const roundUpToMinutes = (seconds: number) =>
  seconds <= 60 ? Math.max(1, Math.ceil(seconds)) : Math.ceil(seconds / 60) * 60;
