import { DomainError, RateLimitedError } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { ClaimTicket } from './claim-throttle.js';
import type { CounterStore } from './counter-store.js';

export interface LinkLimits {
  /** Failed self-service links per sender account per `senderWindowMs`; 0 turns the limit off. */
  perSender: number;
  senderWindowMs: number;
  /** Failed admin redemptions per API key per `keyWindowMs`; 0 turns the limit off. */
  perKey: number;
  keyWindowMs: number;
  /** Link requests asked from a chat per sender account per `askerWindowMs`; 0 turns the limit off. */
  perAsker?: number;
  askerWindowMs?: number;
}

export type LinkThrottle = ReturnType<typeof createLinkThrottle>;

export const TOO_MANY_LINK_ATTEMPTS = 'Too many link code attempts; try again later';
export const TOO_MANY_LINK_REQUESTS = 'Too many link requests from this account; try again later';

/**
 * Limits guesses at link codes over the shared counters (Redis when replicas must agree), as
 * claim-throttle.ts does for claim codes: every attempt is counted before a code is compared,
 * so concurrent guesses cannot slip past the limit, and handed back when it succeeds, so that
 * only failures use up the budget. Once over, every attempt is refused until the window ends,
 * a right code included: otherwise the refusal itself would tell a guesser when it guessed right.
 */
export function createLinkThrottle(store: CounterStore, limits: LinkLimits) {
  async function take(
    key: string,
    limit: number,
    windowMs: number,
    refusal = TOO_MANY_LINK_ATTEMPTS,
  ): Promise<ClaimTicket> {
    let count: Awaited<ReturnType<CounterStore['hit']>>;
    try {
      count = await store.hit(key, windowMs);
    } catch {
      // Fail closed: without counters, guessing would be unlimited.
      throw new DomainError('unavailable', 'Link codes cannot be checked right now; try again shortly');
    }
    // A lost refund only makes the limit a little stricter; never fail over it.
    const refund = () => store.refund(key).catch(() => undefined);
    if (count.count > limit) {
      // A refused attempt compared nothing: the counter stays at its limit until the window ends.
      await refund();
      throw new RateLimitedError(refusal, Math.ceil(count.resetInMs / 1000));
    }
    return { succeeded: refund };
  }

  const none: ClaimTicket = { succeeded: async () => undefined };

  return {
    /** One self-service attempt from this sender account (channel and external id, normalized). */
    sender(channel: string, externalId: string): Promise<ClaimTicket> {
      if (limits.perSender <= 0) return Promise.resolve(none);
      return take(`link:sender:${channel}:${externalId}`, limits.perSender, limits.senderWindowMs);
    },
    /**
     * One `/link` from a chat account. Every ask counts (none is handed back): each writes a
     * renewed code and an audit entry, and a chat account should not be able to flood either.
     */
    async asker(channel: string, externalId: string): Promise<void> {
      const limit = limits.perAsker ?? 0;
      if (limit <= 0) return;
      await take(`link:ask:${channel}:${externalId}`, limit, limits.askerWindowMs ?? 3_600_000, TOO_MANY_LINK_REQUESTS);
    },
    /** One redemption with this API key (none for actors without a key: the command line). */
    key(actor: Actor): Promise<ClaimTicket> {
      if (limits.perKey <= 0 || !actor.keyId) return Promise.resolve(none);
      return take(`link:key:${actor.keyId}`, limits.perKey, limits.keyWindowMs);
    },
  };
}
