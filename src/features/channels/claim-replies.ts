import { describeDuration } from '../claims/claims.js';

/**
 * What the bot answers. Plain and friendly, and never telling whether a code exists for somebody
 * else: a wrong, spent, expired or foreign code all get the same "didn't work" answer.
 */
export const replies = {
  verified: (platform: string) =>
    `You're verified! This ${platform} account is now confirmed as yours, and you're set up as its owner.`,
  invalid: () =>
    "Sorry, that code didn't work. It may be mistyped, already used or expired. Check it, or ask for a new code.",
  voided: () => 'That code was tried too many times and can no longer be used. Please ask for a new code.',
  rateLimited: (retryAfterSeconds: number) =>
    `Too many attempts. Please wait ${describeDuration(roundUpToMinutes(retryAfterSeconds))} and try again.`,
  usage: (example: string) =>
    `To verify this account, send ${example} followed by the 6-character code you were given, for example: ${example} K7MQ2X`,
  unavailable: () => "Sorry, we couldn't check your code just now. Please try again in a minute.",
  alreadyHandled: () => 'This request was already handled.',
  unknownCommand: () => "Sorry, this bot doesn't know that command. Try /claim with the code you were given.",
  noPhoneNumber: () =>
    "Sorry, we can't verify this chat with a code: WhatsApp didn't share your phone number with us. Please contact the team that gave you the code.",
};

const roundUpToMinutes = (seconds: number) =>
  seconds <= 60 ? Math.max(1, Math.ceil(seconds)) : Math.ceil(seconds / 60) * 60;
