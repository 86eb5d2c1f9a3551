import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError, mappedDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { conflict, notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { findCustomerById } from '../customers/customers.repository.js';
import {
  type Identity,
  lookupAnswerJson,
  normalizeChannel,
  normalizeIdentityKey,
  resolveScope,
  toIdentity,
} from './identities.js';
import {
  deleteIdentity,
  findLookupRowsInScope,
  insertIdentity,
  type LookupReaders,
  type LookupRow,
  listIdentityRowsOfCustomer,
  lockIdentityOfCustomer,
  prepareFindLookupRows,
  updateIdentity,
} from './identities.repository.js';
import type { IdentityUpdate } from './identities.table.js';
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
const alreadyLinked = () => conflict('This channel identity is already linked to a customer');

export type IdentitiesService = ReturnType<typeof createIdentitiesService>;

export function createIdentitiesService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  cache: LookupCache;
  /** Db.readQuery: lookups on a read-only SQLite connection of their own (see create-db.ts). */
  readQuery?: LookupReaders['readQuery'];
  /** Db.namedQuery: lookups as a named prepared statement on PostgreSQL. */
  namedQuery?: LookupReaders['namedQuery'];
  /** Drops the caches when another process changed the database (SQLite); see services.ts. */
  syncExternalChanges?: (() => void) | undefined;
}) {
  const { db, uow, clock, cache } = deps;
  const findLookup = prepareFindLookupRows(db, { readQuery: deps.readQuery, namedQuery: deps.namedQuery });

  /**
   * The answer from the database: at once on SQLite (its read is synchronous), else in a promise.
   * Kept in the cache unless the identity has very many scopes.
   */
  function readAnswer(channel: string, externalId: string, instanceId: string | undefined): string | Promise<string> {
    const epoch = cache.epoch();
    let rows: LookupRow[] | Promise<LookupRow[]>;
    try {
      rows = findLookup(channel, externalId, CACHEABLE_SCOPES + 1);
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
      // Linked in very many instances: ask for exactly the two scopes that can answer.
      if (instanceId === undefined) return answerOrNotFound(resolveScope(rows, undefined));
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
      const key = normalizeIdentityKey(input, 'query');
      deps.syncExternalChanges?.();
      const cached = cache.answer(key.channel, key.external_id, input.instance_id);
      if (cached === null) throw identityNotFound();
      return cached ?? readAnswer(key.channel, key.external_id, input.instance_id);
    },

    async list(customerId: string, channel?: string): Promise<Identity[]> {
      const normalized = channel === undefined ? undefined : normalizeChannel(channel, ['query', 'channel']);
      return mapDbError(async () => {
        if (!(await findCustomerById(db, customerId))) throw customerNotFound();
        return (await listIdentityRowsOfCustomer(db, customerId, normalized)).map(toIdentity);
      });
    },

    async create(actor: Actor, customerId: string, input: NewIdentity): Promise<Identity> {
      const key = normalizeIdentityKey(input, 'body');
      const now = isoNow(clock);
      return mapDbError(
        () =>
          uow(actor, async (trx, fx) => {
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
                metadata: JSON.stringify(input.metadata ?? {}),
                created_at: now,
                updated_at: now,
              }),
            );
            fx.identityChanged(identity.channel, identity.external_id);
            await fx.audit({ action: 'identity.created', customerId, identityId: identity.id, after: identity });
            return identity;
          }),
        { unique: alreadyLinked, foreign_key: customerNotFound },
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
          if (patch.verified === true && row.verified_at === null) update.verified_at = isoNow(clock);
          if (patch.verified === false) update.verified_at = null;
          const changed = Object.entries(update).some(([k, v]) => row[k as keyof typeof row] !== v);
          if (!changed) return toIdentity(row);
          update.updated_at = isoNow(clock);
          const after = toIdentity(await updateIdentity(trx, identityId, update));
          fx.identityChanged(row.channel, row.external_id);
          const action =
            patch.verified === undefined || after.verified === (row.verified_at !== null)
              ? 'identity.updated'
              : after.verified
                ? 'identity.verified'
                : 'identity.unverified';
          await fx.audit({ action, customerId, identityId, before: toIdentity(row), after });
          return after;
        }),
      );
    },

    async delete(actor: Actor, customerId: string, identityId: string): Promise<void> {
      await mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await lockIdentityOfCustomer(trx, customerId, identityId);
          if (!row) throw identityNotFound();
          await deleteIdentity(trx, identityId);
          fx.identityChanged(row.channel, row.external_id);
          await fx.audit({ action: 'identity.deleted', customerId, identityId, before: toIdentity(row) });
        }),
      );
    },
  };
}
