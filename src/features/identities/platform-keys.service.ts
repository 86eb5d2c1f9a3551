import { classifyDbError, mapDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { FieldError } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { normalizeExternalId, toBsuid, toE164 } from './identities.js';
import {
  findKeyOwner,
  findSenderIdentities,
  insertAlias,
  lockIdentityById,
  renameAlias,
  updateIdentity,
} from './identities.repository.js';
import { identityWithAliases, keysChanged } from './identities.service.js';

/** What the platform's word changed, for the caller's log. */
export interface PlatformOutcome {
  identityIds: string[];
  /** Keys the platform named that another identity has already: left alone. */
  conflicts: number;
}

export type PlatformKeysService = ReturnType<typeof createPlatformKeysService>;

const normalized = (channel: string, raw: string) => {
  try {
    return normalizeExternalId(channel, raw, ['body', 'external_id']);
  } catch (error) {
    if (error instanceof FieldError) return undefined;
    throw error;
  }
};

/**
 * Changes a chat platform vouches for in a signed webhook, with no operator involved: a user id
 * that belongs to a phone number (kept as an alias, so that the person stays known when the number
 * disappears), and identifiers that changed (re-keyed). Audited with source 'platform'.
 */
export function createPlatformKeysService(deps: { uow: UnitOfWork; clock: Clock }) {
  const { uow, clock } = deps;

  /** A lost race for a key (someone linked it meanwhile) is a conflict, not an error. */
  async function tolerant(work: () => Promise<PlatformOutcome>): Promise<PlatformOutcome> {
    try {
      return await mapDbError(work);
    } catch (error) {
      if (classifyDbError(error) === 'unique') return { identityIds: [], conflicts: 1 };
      throw error;
    }
  }

  return {
    /**
     * One signed message carried both the phone number and the BSUID: every identity linked by
     * that number gets the BSUID as an alias, and one not yet verified is verified by the platform.
     */
    learnUserId(actor: Actor, channel: string, rawPhone: string, rawUserId: string): Promise<PlatformOutcome> {
      const phone = toE164(rawPhone);
      const userId = toBsuid(rawUserId);
      if (!phone || !userId) return Promise.resolve({ identityIds: [], conflicts: 0 });
      return tolerant(() =>
        uow(actor, async (trx, fx) => {
          const outcome: PlatformOutcome = { identityIds: [], conflicts: 0 };
          for (const found of await findSenderIdentities(trx, channel, phone, undefined)) {
            const row = await lockIdentityById(trx, found.id);
            if (!row) continue;
            const scope = row.instance_id ?? '';
            const owner = await findKeyOwner(trx, channel, userId, scope);
            if (owner && owner.identity_id !== row.id) {
              outcome.conflicts++;
              continue;
            }
            if (owner && row.verified_at !== null) continue;
            const now = isoNow(clock);
            let before = await identityWithAliases(trx, row);
            if (!owner) {
              await insertAlias(trx, { channel, external_id: userId, scope, identity_id: row.id, created_at: now });
              const updated = await updateIdentity(trx, row.id, { updated_at: now });
              const after = await identityWithAliases(trx, updated);
              await fx.audit({
                action: 'identity.alias_added',
                customerId: row.customer_id,
                identityId: row.id,
                before,
                after,
                source: 'platform',
              });
              before = after;
            }
            if (row.verified_at === null) {
              const updated = await updateIdentity(trx, row.id, {
                verified_at: now,
                verified_via: 'platform',
                updated_at: now,
              });
              const after = await identityWithAliases(trx, updated);
              await fx.audit({
                action: 'identity.verified',
                customerId: row.customer_id,
                identityId: row.id,
                before,
                after,
                source: 'platform',
              });
            }
            await keysChanged(trx, fx, [row.id]);
            outcome.identityIds.push(row.id);
          }
          return outcome;
        }),
      );
    },

    /**
     * The platform says an identifier changed (a new phone number, a new user id): every identity
     * found under the old one is found under the new one instead, whether it was its external id
     * or an alias. A new identifier that another identity has already is left alone (a conflict).
     */
    rekey(actor: Actor, channel: string, rawFrom: string, rawTo: string): Promise<PlatformOutcome> {
      const from = normalized(channel, rawFrom);
      const to = normalized(channel, rawTo);
      if (!from || !to || from === to) return Promise.resolve({ identityIds: [], conflicts: 0 });
      return tolerant(() =>
        uow(actor, async (trx, fx) => {
          const outcome: PlatformOutcome = { identityIds: [], conflicts: 0 };
          for (const found of await findSenderIdentities(trx, channel, from, undefined)) {
            const row = await lockIdentityById(trx, found.id);
            if (!row) continue;
            if (await findKeyOwner(trx, channel, to, row.instance_id ?? '')) {
              outcome.conflicts++;
              continue;
            }
            const before = await identityWithAliases(trx, row);
            // The old key's cached answers go stale too: read the keys before they change.
            await keysChanged(trx, fx, [row.id]);
            const now = isoNow(clock);
            if (row.external_id === from) {
              // The database's trigger re-keys the identity's own row in identity_keys.
              await updateIdentity(trx, row.id, { external_id: to, updated_at: now });
            } else {
              await renameAlias(trx, row.id, from, to);
            }
            const updated = await updateIdentity(trx, row.id, { updated_at: now });
            const after = await identityWithAliases(trx, updated);
            await keysChanged(trx, fx, [row.id]);
            await fx.audit({
              action: 'identity.updated',
              customerId: row.customer_id,
              identityId: row.id,
              before,
              after,
              source: 'platform',
            });
            outcome.identityIds.push(row.id);
          }
          return outcome;
        }),
      );
    },
  };
}
