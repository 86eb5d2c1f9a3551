import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow, type Random } from '../../internal/clock.js';
import { conflict, notFound } from '../../internal/errors.js';
import type { Actor, ChangeHub } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import {
  type ApiKey,
  generateApiKey,
  hashApiKey,
  type NewApiKey,
  type Scope,
  shownPrefix,
  toApiKey,
} from './api-keys.js';
import {
  findActiveKeyByHash,
  findKeyByHash,
  findKeyById,
  insertApiKey,
  insertBootstrapKey,
  listActiveKeys,
  restoreKey,
  revokeKey,
  touchKey,
} from './api-keys.repository.js';

/** Who a valid key is. */
export interface Principal {
  keyId: string;
  name: string;
  scope: Scope;
}

/**
 * The BOOTSTRAP_API_KEY's key after start: active (created now or before), or left as an operator
 * left it: revoked (it stays revoked), or not an admin key.
 */
export type BootstrapKey =
  | { state: 'active'; keyId: string }
  | { state: 'revoked'; keyId: string; revokedAt: string }
  | { state: 'not_admin'; keyId: string; scope: string };

const TOUCH_INTERVAL_MS = 60_000;
/** Known keys are remembered briefly; a revocation clears them at once (here and, via NOTIFY, on other replicas). */
const AUTH_CACHE_TTL_MS = 60_000;

export type ApiKeysService = ReturnType<typeof createApiKeysService>;

export function createApiKeysService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  random: Random;
  hub: ChangeHub;
  /** Drops the caches when another process changed the database (SQLite); see services.ts. */
  syncExternalChanges?: (() => void) | undefined;
  /** Reports a failed background write (last_used_at); never throws. */
  onBackgroundError: (error: unknown) => void;
}) {
  const { db, uow, clock, random, hub } = deps;
  const known = new LRUCache<string, Principal>({ max: 10_000, ttl: AUTH_CACHE_TTL_MS });
  const lastTouched = new Map<string, number>();
  let epoch = 0;

  hub.subscribe((changes) => {
    if (changes.reset || changes.apiKeyHashes.length > 0) epoch++;
    if (changes.reset) known.clear();
    for (const hash of changes.apiKeyHashes) known.delete(hash);
  });

  function touch(keyId: string) {
    const now = clock.now();
    const last = lastTouched.get(keyId) ?? 0;
    if (now.getTime() - last < TOUCH_INTERVAL_MS) return;
    lastTouched.set(keyId, now.getTime());
    const staleBefore = new Date(now.getTime() - TOUCH_INTERVAL_MS).toISOString();
    touchKey(db, keyId, now.toISOString(), staleBefore).catch(deps.onBackgroundError);
  }

  function knownByHash(hash: string): Principal | undefined {
    deps.syncExternalChanges?.();
    const principal = known.get(hash);
    if (principal) touch(principal.keyId);
    return principal;
  }

  async function authenticateFromDatabase(hash: string): Promise<Principal | undefined> {
    const seen = epoch;
    const row = await mapDbError(() => findActiveKeyByHash(db, hash));
    if (!row) return undefined;
    const principal: Principal = { keyId: row.id, name: row.name, scope: row.scope as Scope };
    if (seen === epoch) known.set(hash, principal);
    touch(principal.keyId);
    return principal;
  }

  async function create(actor: Actor, input: { name: string; scope: Scope }): Promise<NewApiKey> {
    const key = generateApiKey(random);
    return mapDbError(() =>
      uow(actor, async (trx, fx) => {
        const row = await insertApiKey(trx, {
          id: randomUUID(),
          name: input.name,
          scope: input.scope,
          prefix: shownPrefix(key),
          key_hash: hashApiKey(key),
          created_at: isoNow(clock),
        });
        const { last_used_at: _, ...created } = toApiKey(row);
        await fx.audit({ action: 'api_key.created', after: created });
        return { ...created, key };
      }),
    );
  }

  return {
    create,

    list: async (): Promise<ApiKey[]> => (await mapDbError(() => listActiveKeys(db))).map(toApiKey),

    async revoke(actor: Actor, id: string): Promise<void> {
      await mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await revokeKey(trx, id, isoNow(clock));
          if (!row) throw notFound('API key');
          fx.apiKeyChanged(row.key_hash);
          await fx.audit({ action: 'api_key.revoked', before: toApiKey(row) });
        }),
      );
    },

    /**
     * The principal a presented key stands for, or undefined for an unknown or revoked key; at
     * once (without a promise) for a key this process knows, as on every request of a runtime.
     */
    authenticate(presented: string): Principal | Promise<Principal | undefined> {
      // Only digests are compared (the cache and the database are keyed by SHA-256): comparing
      // the raw key with the last one presented (a shortcut that saved the hash, some 5 µs) would
      // leak, in the time a mismatch takes, how much of another client's key a guess got right.
      const hash = hashApiKey(presented);
      return knownByHash(hash) ?? authenticateFromDatabase(hash);
    },

    /** `authenticate` for a key this process knows; undefined, without asking the database, for any other. */
    knownPrincipal(presented: string): Principal | undefined {
      return knownByHash(hashApiKey(presented));
    },

    /**
     * An operator's revocation stands: a revoked key is brought back only by `restore` (the
     * command line's `keys restore ID`), audited, never by a start or a command.
     */
    async restore(actor: Actor, id: string): Promise<ApiKey> {
      return mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await restoreKey(trx, id);
          if (!row) {
            if (await findKeyById(trx, id)) throw conflict('This API key is not revoked');
            throw notFound('API key');
          }
          fx.apiKeyChanged(row.key_hash);
          const restored = toApiKey(row);
          await fx.audit({ action: 'api_key.restored', after: restored });
          return restored;
        }),
      );
    },

    /**
     * BOOTSTRAP_API_KEY: creates an admin key with exactly this value unless a key with it
     * exists; an existing key is left as it is (a revoked one stays revoked) and reported.
     */
    async ensureBootstrapKey(key: string): Promise<BootstrapKey> {
      const keyHash = hashApiKey(key);
      return mapDbError(async () => {
        await insertBootstrapKey(db, {
          id: randomUUID(),
          name: 'bootstrap',
          scope: 'admin',
          prefix: shownPrefix(key),
          key_hash: keyHash,
          created_at: isoNow(clock),
        });
        const row = await findKeyByHash(db, keyHash);
        if (!row) throw new Error('the bootstrap key was not stored');
        if (row.revoked_at !== null) return { state: 'revoked', keyId: row.id, revokedAt: row.revoked_at };
        if (row.scope !== 'admin') return { state: 'not_admin', keyId: row.id, scope: row.scope };
        return { state: 'active', keyId: row.id };
      });
    },
  };
}
