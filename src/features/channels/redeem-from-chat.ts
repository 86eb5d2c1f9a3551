import { DomainError, RateLimitedError } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { ClaimsService } from '../claims/claims.service.js';
import { replies } from './claim-replies.js';

export type ChatChannel = 'telegram' | 'slack' | 'whatsapp' | 'discord';

const PLATFORM: Record<ChatChannel, string> = {
  telegram: 'Telegram',
  slack: 'Slack',
  whatsapp: 'WhatsApp',
  discord: 'Discord',
};

/** The API accepts codes of at most 32 characters; longer text cannot be a code. */
const MAX_CODE_INPUT = 32;

/** The audit trail names the webhook that acted; there is no API key behind it. */
export const webhookActor = (channel: ChatChannel): Actor => ({ keyId: null, name: `${channel}-webhook` });

export interface RedeemLogger {
  warn(object: object, message: string): void;
}

/**
 * Redeems a code sent from a chat and says what to answer. Never throws for the sender's mistakes:
 * every outcome becomes a reply, so that the platform gets its 200 and does not redeliver.
 */
export async function redeemFromChat(
  claims: ClaimsService,
  log: RedeemLogger,
  input: { channel: ChatChannel; externalId: string; code: string },
): Promise<string> {
  if (input.code.length > MAX_CODE_INPUT) return replies.invalid();
  try {
    const outcome = await claims.attempt(webhookActor(input.channel), {
      channel: input.channel,
      external_id: input.externalId,
      code: input.code,
    });
    if (outcome.ok) return replies.verified(PLATFORM[input.channel]);
    return outcome.reason === 'too_many_attempts' ? replies.voided() : replies.invalid();
  } catch (error) {
    if (error instanceof RateLimitedError) return replies.rateLimited(error.retryAfterSeconds);
    // A sender id that does not normalize (never from a real platform) can own no identity.
    if (error instanceof DomainError && error.code === 'validation') return replies.invalid();
    log.warn({ err: error, channel: input.channel }, 'chat claim failed');
    return replies.unavailable();
  }
}
