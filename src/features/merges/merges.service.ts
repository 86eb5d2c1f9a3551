import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { conflict, customerMerged, type DomainError, notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { voidClaimCodes } from '../claims/claims.repository.js';
import { toCustomer } from '../customers/customers.js';
import { deleteCustomer, findCustomerById, insertCustomer, updateCustomer } from '../customers/customers.repository.js';
import type { CustomerRow } from '../customers/customers.table.js';
import { DEFAULT_MAX_IDENTITIES_PER_CUSTOMER } from '../identities/identities.js';
import {
  countIdentitiesOfCustomer,
  listIdentityRowsOfCustomer,
  lockIdentitiesOfCustomer,
  moveAllIdentities,
  moveIdentitiesBack,
} from '../identities/identities.repository.js';
import {
  assertIdentityRoom,
  keysChanged,
  lockCustomersInOrder,
  refuseBeyondIdentityLimit,
  withAliases,
} from '../identities/identities.service.js';
import type { SuppressionGuard } from '../privacy/suppression.js';
import { METADATA_MAX_BYTES } from '../shared/fields.js';
import { jsonBytes } from '../validation/json-limits.js';
import {
  MAX_MERGE_CHAIN,
  type Merge,
  type MergePreview,
  type MergeResult,
  mergedFields,
  toMerge,
  type UndoResult,
} from './merges.js';
import { findLiveMergeOfSource, insertMerge, listMerges, lockMerge, markUndone } from './merges.repository.js';
import type { TargetBefore } from './merges.table.js';

export type MergesService = ReturnType<typeof createMergesService>;

const selfMerge = () => conflict('A customer cannot be merged into itself');

/**
 * The kept customer's metadata must be one the API would accept (and an export's import would):
 * two customers within the limit can make one beyond it.
 */
function refuseOversizedMetadata(metadata: Record<string, unknown>) {
  const bytes = jsonBytes(metadata);
  if (bytes <= METADATA_MAX_BYTES) return;
  throw conflict(
    `The merged metadata would be ${bytes} bytes as JSON; at most ${METADATA_MAX_BYTES} are allowed: remove keys from either customer's metadata first`,
  );
}

export function createMergesService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  /** MAX_IDENTITIES_PER_CUSTOMER. */
  maxIdentitiesPerCustomer?: number | undefined;
  /** Undoing a merge brings a customer back: not with an erased person's suppressed email. */
  suppressions?: SuppressionGuard | undefined;
}) {
  const { db, uow, clock } = deps;
  const maxIdentities = deps.maxIdentitiesPerCustomer ?? DEFAULT_MAX_IDENTITIES_PER_CUSTOMER;

  /** Where a merged customer's identities went: the end of the chain of live merges from it. */
  async function mergedInto(id: string, executor: Executor = db): Promise<string | undefined> {
    let into: string | undefined;
    let at = id;
    for (let hop = 0; hop < MAX_MERGE_CHAIN; hop++) {
      const merge = await findLiveMergeOfSource(executor, at);
      if (!merge) break;
      into = merge.target_customer_id;
      if (await findCustomerById(executor, into)) break;
      at = into;
    }
    return into;
  }

  /** 410 with where it went for a merged customer, else 404. */
  async function missing(executor: Executor, id: string, what = 'Customer'): Promise<DomainError> {
    const into = await mergedInto(id, executor);
    return into ? customerMerged(into) : notFound(what);
  }

  async function preview(targetId: string, sourceId: string): Promise<MergePreview> {
    const [target, source] = await Promise.all([findCustomerById(db, targetId), findCustomerById(db, sourceId)]);
    if (!target) throw await missing(db, targetId);
    if (!source) throw await missing(db, sourceId, 'Source customer');
    const t = toCustomer(target);
    const s = toCustomer(source);
    const fields = mergedFields(t, s);
    refuseOversizedMetadata(fields.metadata);
    const [moving, having] = await Promise.all([
      listIdentityRowsOfCustomer(db, sourceId),
      countIdentitiesOfCustomer(db, targetId),
    ]);
    refuseBeyondIdentityLimit(maxIdentities, having, moving.length);
    return { target: t, source: s, result: { ...t, ...fields }, identities_to_move: await withAliases(db, moving) };
  }

  async function merge(actor: Actor, targetId: string, sourceId: string): Promise<MergeResult> {
    return uow(actor, async (trx, fx) => {
      const locked = await lockCustomersInOrder(trx, [targetId, sourceId]);
      const target = locked.get(targetId);
      const source = locked.get(sourceId);
      if (!target) throw await missing(trx, targetId);
      if (!source) throw await missing(trx, sourceId, 'Source customer');
      const now = isoNow(clock);
      const fields = mergedFields(toCustomer(target), toCustomer(source));
      refuseOversizedMetadata(fields.metadata);
      const identities = await lockIdentitiesOfCustomer(trx, sourceId);
      await assertIdentityRoom(trx, maxIdentities, targetId, identities.length);
      const movedIds = identities.map((i) => i.id);
      await moveAllIdentities(trx, sourceId, targetId, now);
      const after = toCustomer(
        await updateCustomer(trx, targetId, {
          name: fields.name,
          metadata: JSON.stringify(fields.metadata),
          updated_at: now,
        }),
      );
      const mergeId = randomUUID();
      const targetBefore: TargetBefore = { name: target.name, metadata: target.metadata, updated_at_after: now };
      await insertMerge(trx, {
        id: mergeId,
        target_customer_id: targetId,
        source_customer_id: sourceId,
        source: JSON.stringify(source),
        target_before: JSON.stringify(targetBefore),
        moved_identity_ids: JSON.stringify(movedIds),
        merged_at: now,
        undone_at: null,
      });
      // Its identities are gone from it: nothing cascades, and its email is free again.
      await deleteCustomer(trx, sourceId);
      // One notice for every key of every identity moved (a reset when too many for one NOTIFY).
      await keysChanged(trx, fx, movedIds);
      await fx.audit({
        action: 'customer.merged',
        customerId: targetId,
        after: { merge_id: mergeId, target: after, source: toCustomer(source), moved_identity_ids: movedIds },
      });
      return { merge_id: mergeId, target: after, moved_identity_ids: movedIds, merged_at: now };
    });
  }

  return {
    mergedInto: (id: string) => mapDbError(() => mergedInto(id)),

    /** Merges the source into the target, or (dryRun) says what that would do, writing nothing. */
    async merge(
      actor: Actor,
      targetId: string,
      input: { source_customer_id: string; dry_run?: boolean | undefined },
    ): Promise<MergePreview | MergeResult> {
      const sourceId = input.source_customer_id;
      if (sourceId === targetId) throw selfMerge();
      return mapDbError(
        (): Promise<MergePreview | MergeResult> =>
          input.dry_run ? preview(targetId, sourceId) : merge(actor, targetId, sourceId),
      );
    },

    async list(customerId: string | undefined, limit: number): Promise<Merge[]> {
      return (await mapDbError(() => listMerges(db, customerId, limit))).map(toMerge);
    },

    /**
     * The source customer comes back exactly as it was (id, email, name, metadata, created_at),
     * with those of its identities that are still on the target. The target's name and metadata
     * go back too when nobody changed the target since the merge.
     */
    async undo(actor: Actor, mergeId: string): Promise<UndoResult> {
      const emailTaken = () => conflict("The source customer's email has been taken since the merge");
      return mapDbError(
        () =>
          uow(actor, async (trx, fx) => {
            const merge = await lockMerge(trx, mergeId);
            if (!merge) throw notFound('Merge');
            if (merge.undone_at !== null) throw conflict('This merge was undone already');
            const source = JSON.parse(merge.source) as CustomerRow;
            if (await findCustomerById(trx, source.id)) throw conflict('The source customer exists again');
            const [target] = (await lockCustomersInOrder(trx, [merge.target_customer_id])).values();
            // A target merged away since holds none of the moved identities: they went on with it.
            // Its own merge comes back first, else the identities would stay where they went.
            const later = target ? undefined : await findLiveMergeOfSource(trx, merge.target_customer_id);
            if (later) {
              throw conflict(
                `Undo the later merge first: merge ${later.id} merged customer ${merge.target_customer_id} into ${later.target_customer_id}`,
              );
            }
            const taken = await trx
              .selectFrom('customers')
              .select('id')
              .where('email', '=', source.email)
              .executeTakeFirst();
            if (taken) throw emailTaken();
            await deps.suppressions?.assertNotSuppressed(trx, { email: source.email });
            const restored = toCustomer(await insertCustomer(trx, source));
            const now = isoNow(clock);
            const movedBack = target
              ? await moveIdentitiesBack(
                  trx,
                  JSON.parse(merge.moved_identity_ids) as string[],
                  merge.target_customer_id,
                  source.id,
                  now,
                )
              : [];
            // A code issued while they sat on the target would make its holder an owner of the restored customer.
            await voidClaimCodes(trx, movedBack);
            const before = JSON.parse(merge.target_before) as TargetBefore;
            if (target && target.updated_at === before.updated_at_after) {
              await updateCustomer(trx, target.id, { name: before.name, metadata: before.metadata, updated_at: now });
            }
            await markUndone(trx, mergeId, now);
            await keysChanged(trx, fx, movedBack);
            const after = {
              merge_id: mergeId,
              source: restored,
              target_customer_id: merge.target_customer_id,
              moved_back_identity_ids: movedBack,
            };
            await fx.audit({ action: 'customer.unmerged', customerId: source.id, after });
            return { source: restored, moved_back_identity_ids: movedBack };
          }),
        { unique: emailTaken },
      );
    },
  };
}
