import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow, type Random } from '../../internal/clock.js';
import { conflict, invalidClaim, notFound, RateLimitedError } from '../../internal/errors.js';
import { addSeconds } from '../../internal/time.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { type Identity, normalizeIdentityKey } from '../identities/identities.js';
import {
  findSenderIdentities,
  lockIdentityById,
  lockIdentityOfCustomer,
  updateIdentity,
} from '../identities/identities.repository.js';
import { identityWithAliases, keysChanged } from '../identities/identities.service.js';
import type { IdentityRow } from '../identities/identities.table.js';
import { newClaimOutcomes } from '../throttle/claim-outcomes.js';
import type { ClaimThrottle } from '../throttle/claim-throttle.js';
import {
  CLAIMED_ROLE,
  type ClaimCode,
  claimInstructions,
  generateCode,
  hashCode,
  hashesEqual,
  MAX_ATTEMPTS,
  normalizeCodeInput,
} from './claims.js';
import { countAttempt, spendClaimCode, upsertClaimCode } from './claims.repository.js';

export interface Redemption {
  channel: string;
  external_id: string;
  code: string;
  instance_id?: string | null | undefined;
}

/** Why a redemption failed, for the sender's own chat reply; the HTTP API says the same 400 for all. */
export type ClaimOutcome = { ok: true; identity: Identity } | { ok: false; reason: 'invalid' | 'too_many_attempts' };

export type ClaimsService = ReturnType<typeof createClaimsService>;

export function createClaimsService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  random: Random;
  secret: string;
  ttlSeconds: number;
  /** Limits failed redemptions per sender and per API key; none in tools that redeem nothing. */
  throttle?: ClaimThrottle;
}) {
  const { db, uow, clock, random, secret, ttlSeconds } = deps;
  const outcomes = newClaimOutcomes();

  /** One attempt against one identity's code, in one transaction with its audit event. */
  function attempt(actor: Actor, found: IdentityRow, code: string): Promise<ClaimOutcome> {
    return uow(actor, async (trx, fx) => {
      // The identity first, then its code: the order a move takes too, so that neither waits on
      // the other in a circle; and the row as it is now (a move may have just taken it).
      const identity = await lockIdentityById(trx, found.id);
      if (!identity) return { ok: false, reason: 'invalid' } as const;
      const now = isoNow(clock);
      const counted = await countAttempt(trx, identity.id, now, MAX_ATTEMPTS);
      if (!counted) return { ok: false, reason: 'invalid' } as const;
      const expected = hashCode(secret, identity.id, code);
      if (hashesEqual(counted.code_hash, expected) && (await spendClaimCode(trx, identity.id, counted.code_hash))) {
        const before = await identityWithAliases(trx, identity);
        const after = await identityWithAliases(
          trx,
          await updateIdentity(trx, identity.id, {
            verified_at: identity.verified_at ?? now,
            verified_via: 'claim_code',
            role_override: CLAIMED_ROLE,
            updated_at: now,
          }),
        );
        await keysChanged(trx, fx, [identity.id]);
        await fx.audit({
          action: 'claim.succeeded',
          customerId: identity.customer_id,
          identityId: identity.id,
          before,
          after,
        });
        return { ok: true, identity: after } as const;
      }
      const voided = counted.attempts >= MAX_ATTEMPTS;
      await fx.audit({
        action: 'claim.failed',
        customerId: identity.customer_id,
        identityId: identity.id,
        after: { attempts: counted.attempts, voided },
      });
      return { ok: false, reason: voided ? 'too_many_attempts' : 'invalid' } as const;
    });
  }

  return {
    /** Counts for /metrics. */
    outcomes,

    async generate(actor: Actor, customerId: string, identityId: string): Promise<ClaimCode> {
      const code = generateCode(random);
      return mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const identity = await lockIdentityOfCustomer(trx, customerId, identityId);
          if (!identity) throw notFound('Identity');
          if (identity.verified_at !== null) throw conflict('This identity is already verified');
          const now = clock.now();
          const expiresAt = addSeconds(now, ttlSeconds).toISOString();
          // One active code per identity: this replaces (voids) the previous one.
          await upsertClaimCode(trx, {
            identity_id: identityId,
            code_hash: hashCode(secret, identityId, code),
            expires_at: expiresAt,
            created_at: now.toISOString(),
          });
          await fx.audit({
            action: 'claim_code.issued',
            customerId,
            identityId,
            after: { expires_at: expiresAt },
          });
          return {
            code,
            expires_in_seconds: ttlSeconds,
            identity_id: identityId,
            instructions: claimInstructions(code, identity.channel, ttlSeconds),
          };
        }),
      );
    },

    /** Redeems a code sent from a chat; tells the sender's own outcome apart for the reply. */
    async attempt(actor: Actor, input: Redemption): Promise<ClaimOutcome> {
      const key = normalizeIdentityKey(input, 'body');
      const code = normalizeCodeInput(input.code);
      // Counted before anything is compared, so that a guesser is refused without a database read.
      const ticket = await deps.throttle?.take(actor, key.channel, key.external_id).catch((error: unknown) => {
        if (error instanceof RateLimitedError) outcomes.rate_limited++;
        throw error;
      });
      const outcome = await mapDbError(async () => {
        const candidates = await findSenderIdentities(db, key.channel, key.external_id, input.instance_id ?? undefined);
        let outcome: ClaimOutcome = { ok: false, reason: 'invalid' };
        for (const identity of candidates) {
          const result = await attempt(actor, identity, code);
          if (result.ok) return result;
          if (result.reason === 'too_many_attempts') outcome = result;
        }
        return outcome;
      });
      if (outcome.ok) {
        outcomes.succeeded++;
        await ticket?.succeeded();
      } else if (outcome.reason === 'too_many_attempts') outcomes.voided++;
      else outcomes.failed++;
      return outcome;
    },

    /** The API's redemption: any failure is the same 400, so that nothing leaks. */
    async redeem(actor: Actor, input: Redemption): Promise<Identity> {
      const outcome = await this.attempt(actor, input);
      if (!outcome.ok) throw invalidClaim();
      return outcome.identity;
    },
  };
}
