import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { conflict, notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { findCustomerById } from '../customers/customers.repository.js';
import { type Identity, type LookupResult, normalizeChannel, normalizeIdentityKey, toIdentity } from './identities.js';
import {
  deleteIdentity,
  insertIdentity,
  type LookupRow,
  listIdentityRowsOfCustomer,
  lockIdentityOfCustomer,
  prepareFindLookupRows,
  updateIdentity,
} from './identities.repository.js';
import type { IdentityUpdate } from './identities.table.js';
import type { LookupCache } from './lookup-cache.js';

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

/** With an instance id, the identity scoped to it wins, else the unscoped one; without, only the unscoped one. */
export function resolveScope<R extends { instance_id: string | null }>(
  rows: readonly R[],
  instanceId: string | undefined,
): R | undefined {
  const scoped = instanceId === undefined ? undefined : rows.find((r) => r.instance_id === instanceId);
  return scoped ?? rows.find((r) => r.instance_id === null);
}

const toLookupResult = (row: LookupRow): LookupResult => ({
  channel: row.channel,
  customer_email: row.customer_email,
  customer_id: row.customer_id,
  display_name: row.display_name,
  external_id: row.external_id,
  identity_id: row.identity_id,
  role_override: row.role_override,
  verified: row.verified_at !== null,
});

export type IdentitiesService = ReturnType<typeof createIdentitiesService>;

export function createIdentitiesService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  cache: LookupCache;
  /** Db.readQuery: lookups on a read-only SQLite connection of their own (see create-db.ts). */
  readQuery?: (<R>(sql: string, parameters: readonly unknown[]) => R[]) | undefined;
  /** Drops the caches when another process changed the database (SQLite); see services.ts. */
  syncExternalChanges?: (() => void) | undefined;
}) {
  const { db, uow, clock, cache } = deps;
  const findLookup = prepareFindLookupRows(db, deps.readQuery);

  async function lookupRows(channel: string, externalId: string): Promise<LookupRow[]> {
    deps.syncExternalChanges?.();
    const cached = cache.get(channel, externalId);
    if (cached) return cached;
    const epoch = cache.epoch();
    const rows = await mapDbError(() => findLookup(channel, externalId, CACHEABLE_SCOPES + 1));
    if (rows.length <= CACHEABLE_SCOPES) cache.set(channel, externalId, rows, epoch);
    return rows;
  }

  return {
    /** The runtime's hot path: "who is telegram 12345?" */
    async lookup(input: { channel: string; external_id: string; instance_id?: string | undefined }) {
      const key = normalizeIdentityKey(input, 'query');
      let rows = await lookupRows(key.channel, key.external_id);
      if (rows.length > CACHEABLE_SCOPES && input.instance_id !== undefined) {
        // Linked in very many instances: ask for exactly the two scopes that can answer.
        rows = rows.filter((r) => r.instance_id === null || r.instance_id === input.instance_id);
      }
      const row = resolveScope(rows, input.instance_id);
      if (!row) throw notFound('Identity');
      return toLookupResult(row);
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
