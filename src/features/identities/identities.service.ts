import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../../db/database.js';
import { classifyDbError, mapDbError, mappedDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { ConflictError, conflict, notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { Effects, UnitOfWork } from '../changes/unit-of-work.js';
import { CLAIMED_ROLE } from '../claims/claims.js';
import { voidClaimCode } from '../claims/claims.repository.js';
import { findCustomerById, lockCustomerById } from '../customers/customers.repository.js';
import type { SuppressionGuard } from '../privacy/suppression.js';
import {
  DEFAULT_MAX_IDENTITIES_PER_CUSTOMER,
  type Identity,
  type IdentityRules,
  identityLimitProblem,
  lookupAnswerJson,
  normalizeChannel,
  normalizeExternalId,
  normalizeIdentityKey,
  refusePlaceholderExternalId,
  resolveScope,
  toIdentity,
} from './identities.js';
import {
  aliasesOf,
  countIdentitiesOfCustomer,
  deleteAlias,
  deleteIdentity,
  findKeyOwner,
  findLookupRowsInScope,
  insertAlias,
  insertIdentity,
  keysOfIdentities,
  type LookupReaders,
  type LookupRow,
  listIdentityRowsOfCustomer,
  lockIdentityOfCustomer,
  prepareFindLookupRows,
  updateIdentity,
} from './identities.repository.js';
import type { IdentityRow, IdentityUpdate } from './identities.table.js';
import { answerOf, type LookupCache, packAnswers } from './lookup-cache.js';

export interface NewIdentity {
  channel: string;
  external_id: string;
  instance_id?: string | null | undefined;
  display_name?: string | null | undefined;
  role_override?: string | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface IdentityPatch {
  display_name?: string | null | undefined;
  role_override?: string | null | undefined;
  verified?: boolean | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** Rows per channel identity that the cache keeps; beyond this, lookups go to the database. */
const CACHEABLE_SCOPES = 32;

const customerNotFound = () => notFound('Customer');
const identityNotFound = () => notFound('Identity');
export const ALREADY_LINKED = 'This channel identity is already linked to a customer';

/** Identities as the API shows them, with their aliases. */
export async function withAliases(db: Executor, rows: readonly IdentityRow[]): Promise<Identity[]> {
  const aliases = await aliasesOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toIdentity(row, aliases.get(row.id) ?? []));
}

export async function identityWithAliases(db: Executor, row: IdentityRow): Promise<Identity> {
  return (await withAliases(db, [row]))[0] as Identity;
}

/** Every key (external id and aliases) of these identities goes stale in every cache. */
export async function keysChanged(trx: Executor, fx: Effects, identityIds: readonly string[]) {
  for (const key of await keysOfIdentities(trx, identityIds)) fx.identityChanged(key.channel, key.external_id);
}

/**
 * Runs a write that links a channel identity; when the key is taken (the unique index said so,
 * whoever won a race), the 409 says who has it. Looked up after the rollback: PostgreSQL refuses
 * every statement of a transaction after an error.
 */
export async function linking<T>(
  db: Executor,
  key: { channel: string; external_id: string; scope: string },
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (classifyDbError(error) !== 'unique') throw error;
    const owner = await mapDbError(() => findKeyOwner(db, key.channel, key.external_id, key.scope));
    throw new ConflictError(
      ALREADY_LINKED,
      owner ? { customer_id: owner.customer_id, identity_id: owner.identity_id } : undefined,
    );
  }
}

/** Two customers locked in one order (by id), so that moves and merges never wait on each other in a circle. */
export async function lockCustomersInOrder(trx: Executor, ids: readonly string[]) {
  const found = new Map<string, Awaited<ReturnType<typeof lockCustomerById>>>();
  for (const id of [...new Set(ids)].sort()) found.set(id, await lockCustomerById(trx, id));
  return found;
}

/**
 * Refuses (409) a write that would give the customer more than `limit` identities: a link, a
 * move, a merge, a redeemed link request. Call it inside the write's transaction, before the
 * identities arrive: it locks the customer's row first (PostgreSQL), so that two writes adding to
 * one customer at once count one after the other. A customer that is not there passes (the
 * caller's own check, or the foreign key, answers for it).
 */
export async function assertIdentityRoom(trx: Executor, limit: number, customerId: string, adding: number) {
  if (adding <= 0) return;
  if (!(await lockCustomerById(trx, customerId))) return;
  refuseBeyondIdentityLimit(limit, await countIdentitiesOfCustomer(trx, customerId), adding);
}

/** identityLimitProblem as the API's 409. */
export function refuseBeyondIdentityLimit(limit: number, having: number, adding: number) {
  const problem = identityLimitProblem(limit, having, adding);
  if (problem) throw conflict(`${problem[0]?.toUpperCase()}${problem.slice(1)}`);
}

export type IdentitiesService = ReturnType<typeof createIdentitiesService>;

export function createIdentitiesService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  cache: LookupCache;
  /** How external ids are read (DEFAULT_PHONE_REGION). */
  rules?: IdentityRules | undefined;
  /** Db.readQuery: lookups on a read-only SQLite connection of their own (see create-db.ts). */
  readQuery?: LookupReaders['readQuery'];
  /** Db.namedQuery: lookups as a named prepared statement on PostgreSQL. */
  namedQuery?: LookupReaders['namedQuery'];
  /** Drops the caches when another process changed the database (SQLite); see services.ts. */
  syncExternalChanges?: (() => void) | undefined;
  /** Refuses the accounts of an erased, suppressed person. */
  suppressions?: SuppressionGuard | undefined;
}) {
  const { db, uow, clock, cache } = deps;
  const maxIdentities = deps.rules?.maxIdentitiesPerCustomer ?? DEFAULT_MAX_IDENTITIES_PER_CUSTOMER;
  const findLookup = prepareFindLookupRows(db, CACHEABLE_SCOPES + 1, {
    readQuery: deps.readQuery,
    namedQuery: deps.namedQuery,
  });

  /**
   * The answer from the database: at once on SQLite (its read is synchronous), else in a promise.
   * Kept in the cache unless the identity has very many scopes.
   */
  function readAnswer(channel: string, externalId: string, instanceId: string | undefined): string | Promise<string> {
    const epoch = cache.epoch();
    let rows: LookupRow[] | Promise<LookupRow[]>;
    try {
      rows = findLookup(channel, externalId);
    } catch (error) {
      throw mappedDbError(error);
    }
    if (rows instanceof Promise) {
      return mapDbError(() => rows).then((read) => answerFromRows(read, channel, externalId, instanceId, epoch));
    }
    return answerFromRows(rows, channel, externalId, instanceId, epoch);
  }

  /** The rows' answer for this scope, serialized once: the cache keeps the same text. */
  function answerFromRows(
    rows: readonly LookupRow[],
    channel: string,
    externalId: string,
    instanceId: string | undefined,
    epoch: number,
  ): string | Promise<string> {
    if (rows.length > CACHEABLE_SCOPES) {
      // Linked in very many instances: the rows read above are any 33 of them (no ORDER BY), so
      // ask for exactly the scopes that can answer: this instance's and the unscoped one.
      return mapDbError(() => findLookupRowsInScope(db, channel, externalId, instanceId)).then((scoped) =>
        answerOrNotFound(resolveScope(scoped, instanceId)),
      );
    }
    const packed = rows.length === 0 ? null : packAnswers(rows);
    cache.store(channel, externalId, packed, epoch);
    const answer = packed === null ? null : answerOf(packed, instanceId);
    if (answer === null) throw identityNotFound();
    return answer;
  }

  function answerOrNotFound(row: LookupRow | undefined): string {
    if (!row) throw identityNotFound();
    return lookupAnswerJson(row);
  }

  return {
    /**
     * The runtime's hot path: "who is telegram 12345?". The answer is the response body as JSON
     * text; from the cache it comes at once, without a promise, parsing or serialization.
     */
    lookupJson(input: {
      channel: string;
      external_id: string;
      instance_id?: string | undefined;
    }): string | Promise<string> {
      const key = normalizeIdentityKey(input, 'query', deps.rules);
      deps.syncExternalChanges?.();
      const cached = cache.answer(key.channel, key.external_id, input.instance_id);
      if (cached === null) throw identityNotFound();
      if (cached !== undefined) return cached;
      // Checked on a miss only: a placeholder is refused before it is read, so never cached.
      refusePlaceholderExternalId(key.external_id, ['query', 'external_id'], deps.rules);
      return readAnswer(key.channel, key.external_id, input.instance_id);
    },

    async list(customerId: string, channel?: string): Promise<Identity[]> {
      const normalized = channel === undefined ? undefined : normalizeChannel(channel, ['query', 'channel']);
      return mapDbError(async () => {
        if (!(await findCustomerById(db, customerId))) throw customerNotFound();
        return withAliases(db, await listIdentityRowsOfCustomer(db, customerId, normalized));
      });
    },

    async create(actor: Actor, customerId: string, input: NewIdentity): Promise<Identity> {
      const key = normalizeIdentityKey(input, 'body', deps.rules);
      refusePlaceholderExternalId(key.external_id, ['body', 'external_id'], deps.rules);
      const now = isoNow(clock);
      const scope = { ...key, scope: input.instance_id ?? '' };
      return mapDbError(
        () =>
          linking(db, scope, () =>
            uow(actor, async (trx, fx) => {
              await deps.suppressions?.assertNotSuppressed(trx, key);
              await assertIdentityRoom(trx, maxIdentities, customerId, 1);
              const identity = toIdentity(
                await insertIdentity(trx, {
                  id: randomUUID(),
                  customer_id: customerId,
                  channel: key.channel,
                  external_id: key.external_id,
                  instance_id: input.instance_id ?? null,
                  display_name: input.display_name ?? null,
                  role_override: input.role_override ?? null,
                  verified_at: null,
                  verified_via: null,
                  metadata: JSON.stringify(input.metadata ?? {}),
                  created_at: now,
                  updated_at: now,
                }),
              );
              fx.identityChanged(identity.channel, identity.external_id);
              await fx.audit({ action: 'identity.created', customerId, identityId: identity.id, after: identity });
              return identity;
            }),
          ),
        { foreign_key: customerNotFound },
      );
    },

    async update(actor: Actor, customerId: string, identityId: string, patch: IdentityPatch): Promise<Identity> {
      return mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await lockIdentityOfCustomer(trx, customerId, identityId);
          if (!row) throw identityNotFound();
          const update: IdentityUpdate = {};
          if (patch.display_name !== undefined) update.display_name = patch.display_name;
          if (patch.role_override !== undefined) update.role_override = patch.role_override;
          if (patch.metadata !== undefined) update.metadata = JSON.stringify(patch.metadata);
          if (patch.verified === true && row.verified_at === null) {
            update.verified_at = isoNow(clock);
            update.verified_via = 'operator';
          }
          if (patch.verified === false) {
            update.verified_at = null;
            update.verified_via = null;
          }
          // The owner role a claim gave goes with the proof: unverifying (the chat account may
          // have been stolen) drops it, unless this request says which role the identity keeps.
          if (
            patch.verified === false &&
            row.verified_at !== null &&
            patch.role_override === undefined &&
            row.role_override === CLAIMED_ROLE
          ) {
            update.role_override = null;
          }
          // Verified by hand: a code issued before must not verify it again and make an owner.
          if (patch.verified === true) await voidClaimCode(trx, identityId);
          const changed = Object.entries(update).some(([k, v]) => row[k as keyof typeof row] !== v);
          const before = await identityWithAliases(trx, row);
          if (!changed) return before;
          update.updated_at = isoNow(clock);
          const after = toIdentity(await updateIdentity(trx, identityId, update), before.aliases);
          await keysChanged(trx, fx, [identityId]);
          const action =
            patch.verified === undefined || after.verified === (row.verified_at !== null)
              ? 'identity.updated'
              : after.verified
                ? 'identity.verified'
                : 'identity.unverified';
          await fx.audit({ action, customerId, identityId, before, after });
          return after;
        }),
      );
    },

    async delete(actor: Actor, customerId: string, identityId: string): Promise<void> {
      await mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await lockIdentityOfCustomer(trx, customerId, identityId);
          if (!row) throw identityNotFound();
          const before = await identityWithAliases(trx, row);
          // The foreign key cascades too; said here, so that no code outlives its identity's link.
          await voidClaimCode(trx, identityId);
          // Its keys go with it (ON DELETE CASCADE): read them first.
          await keysChanged(trx, fx, [identityId]);
          await deleteIdentity(trx, identityId);
          await fx.audit({ action: 'identity.deleted', customerId, identityId, before });
        }),
      );
    },

    /** Another external id of the same account on the identity's channel. */
    async addAlias(actor: Actor, customerId: string, identityId: string, rawExternalId: string): Promise<Identity> {
      const current = await mapDbError(() => lockIdentityOfCustomer(db, customerId, identityId));
      if (!current) throw identityNotFound();
      const externalId = normalizeExternalId(current.channel, rawExternalId, ['body', 'external_id'], deps.rules);
      refusePlaceholderExternalId(externalId, ['body', 'external_id'], deps.rules);
      const key = { channel: current.channel, external_id: externalId, scope: current.instance_id ?? '' };
      return mapDbError(() =>
        linking(db, key, () =>
          uow(actor, async (trx, fx) => {
            const row = await lockIdentityOfCustomer(trx, customerId, identityId);
            if (!row) throw identityNotFound();
            await deps.suppressions?.assertNotSuppressed(trx, { channel: key.channel, external_id: key.external_id });
            const before = await identityWithAliases(trx, row);
            await insertAlias(trx, { ...key, identity_id: identityId, created_at: isoNow(clock) });
            const updated = await updateIdentity(trx, identityId, { updated_at: isoNow(clock) });
            const after = await identityWithAliases(trx, updated);
            await keysChanged(trx, fx, [identityId]);
            await fx.audit({ action: 'identity.alias_added', customerId, identityId, before, after });
            return after;
          }),
        ),
      );
    },

    async removeAlias(actor: Actor, customerId: string, identityId: string, rawExternalId: string): Promise<void> {
      await mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await lockIdentityOfCustomer(trx, customerId, identityId);
          if (!row) throw identityNotFound();
          const externalId = normalizeExternalId(row.channel, rawExternalId, ['path', 'external_id'], deps.rules);
          const before = await identityWithAliases(trx, row);
          await keysChanged(trx, fx, [identityId]);
          if (!(await deleteAlias(trx, identityId, externalId))) throw notFound('Alias');
          const updated = await updateIdentity(trx, identityId, { updated_at: isoNow(clock) });
          const after = await identityWithAliases(trx, updated);
          await fx.audit({ action: 'identity.alias_removed', customerId, identityId, before, after });
        }),
      );
    },

    /**
     * The identity goes to another customer, same id. Unless the verification is kept, it arrives
     * unverified and without its role: the proof was given by the other customer's person.
     */
    async move(
      actor: Actor,
      customerId: string,
      identityId: string,
      input: { customer_id: string; keep_verification?: boolean | undefined },
    ): Promise<Identity> {
      const targetId = input.customer_id;
      if (targetId === customerId) throw conflict('The identity is on this customer already');
      return mapDbError(
        () =>
          uow(actor, async (trx, fx) => {
            const customers = await lockCustomersInOrder(trx, [customerId, targetId]);
            if (!customers.get(customerId)) throw customerNotFound();
            const row = await lockIdentityOfCustomer(trx, customerId, identityId);
            if (!row) throw identityNotFound();
            if (!customers.get(targetId)) throw notFound('Target customer');
            await assertIdentityRoom(trx, maxIdentities, targetId, 1);
            const before = await identityWithAliases(trx, row);
            await voidClaimCode(trx, identityId);
            const update: IdentityUpdate = { customer_id: targetId, updated_at: isoNow(clock) };
            if (!input.keep_verification) {
              update.verified_at = null;
              update.verified_via = null;
              update.role_override = null;
            }
            const after = toIdentity(await updateIdentity(trx, identityId, update), before.aliases);
            await keysChanged(trx, fx, [identityId]);
            await fx.audit({ action: 'identity.moved', customerId: targetId, identityId, before, after });
            return after;
          }),
        { foreign_key: () => notFound('Target customer') },
      );
    },
  };
}
