import { DomainError, RateLimitedError } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { Count, CounterStore } from './counter-store.js';

export interface ClaimLimits {
  /** Failed redemptions per sender (channel, external_id) per window; 0 turns the limit off. */
  perIdentity: number;
  /** Failed redemptions per API key per window, across every sender; 0 turns the limit off. */
  perKey: number;
  windowMs: number;
}

/** A counted attempt: give it back when it succeeds, so that only failures are ever limited. */
export interface ClaimTicket {
  succeeded(): Promise<void>;
}

export type ClaimThrottle = ReturnType<typeof createClaimThrottle>;

export const TOO_MANY_CLAIMS = 'Too many claim attempts; try again later';

/**
 * Limits claim redemptions, for the HTTP route and the chat webhooks alike (both go through
 * `claims.attempt`). Each attempt is counted before the code is compared, so concurrent guesses
 * cannot slip past the limit, and handed back when it succeeds: an honest claim never uses up the
 * budget, so the benchmark's generate-and-redeem loop never trips it, while a guesser — whose
 * attempts all fail — is stopped at the limit. Keys without an API key (the chat webhooks, whose
 * senders the chat platform authenticates) are limited per sender only.
 */
export function createClaimThrottle(store: CounterStore, limits: ClaimLimits) {
  async function count(key: string): Promise<Count> {
    try {
      return await store.hit(key, limits.windowMs);
    } catch {
      // Fail closed: without counters, guessing would be unlimited.
      throw new DomainError('unavailable', 'Claim redemption is unavailable right now; try again shortly');
    }
  }

  return {
    async take(actor: Actor, channel: string, externalId: string): Promise<ClaimTicket> {
      const taken: { key: string; limit: number }[] = [];
      if (limits.perIdentity > 0)
        taken.push({ key: `claim:sender:${channel}:${externalId}`, limit: limits.perIdentity });
      if (limits.perKey > 0 && actor.keyId) taken.push({ key: `claim:key:${actor.keyId}`, limit: limits.perKey });
      const counts = await Promise.all(taken.map((t) => count(t.key)));
      // A lost refund only makes the limit a little stricter; never fail over it.
      const refund = () => Promise.all(taken.map((t) => store.refund(t.key).catch(() => undefined)));
      const over = counts.filter((c, i) => c.count > (taken[i]?.limit ?? 0));
      if (over.length > 0) {
        // A refused attempt compared nothing, so it counts against no budget: otherwise one sender
        // hammering its own (already blocked) limit would use up the whole key's budget and lock
        // every other sender of that bot out. The blocked counter stays at its limit until the
        // window ends.
        await refund();
        const waitMs = Math.max(...over.map((c) => c.resetInMs));
        throw new RateLimitedError(TOO_MANY_CLAIMS, Math.ceil(waitMs / 1000));
      }
      return {
        async succeeded() {
          await refund();
        },
      };
    },
  };
}
