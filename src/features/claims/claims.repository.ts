import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';

export function upsertClaimCode(
  db: Executor,
  row: { identity_id: string; code_hash: string; expires_at: string; created_at: string },
) {
  return db
    .insertInto('claim_codes')
    .values({ ...row, attempts: 0 })
    .onConflict((oc) =>
      oc.column('identity_id').doUpdateSet({
        code_hash: row.code_hash,
        expires_at: row.expires_at,
        created_at: row.created_at,
        attempts: 0,
      }),
    )
    .execute();
}

/**
 * Counts one attempt against an identity's live code, before any comparison, in one conditional
 * statement: the code's hash comes back only while the code is unexpired and under the limit.
 */
export function countAttempt(db: Executor, identityId: string, nowIso: string, maxAttempts: number) {
  return db
    .updateTable('claim_codes')
    .set({ attempts: sql`attempts + 1` })
    .where('identity_id', '=', identityId)
    .where('attempts', '<', maxAttempts)
    .where('expires_at', '>', nowIso)
    .returning(['code_hash', 'attempts'])
    .executeTakeFirst();
}

/** Spends a code; of many concurrent redemptions, exactly one deletes the row. */
export async function spendClaimCode(db: Executor, identityId: string, codeHash: string) {
  const result = await db
    .deleteFrom('claim_codes')
    .where('identity_id', '=', identityId)
    .where('code_hash', '=', codeHash)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export function deleteClaimCode(db: Executor, identityId: string) {
  return db.deleteFrom('claim_codes').where('identity_id', '=', identityId).execute();
}

/**
 * Voids an identity's live claim code, if it has one: call it, inside the transaction that holds
 * the identity's row lock, whenever the person the code was issued to may no longer be the one
 * to prove the link (the identity is verified by hand, unlinked or moved to another customer).
 */
export async function voidClaimCode(db: Executor, identityId: string): Promise<boolean> {
  const result = await db.deleteFrom('claim_codes').where('identity_id', '=', identityId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** voidClaimCode for many identities (an undone merge's), a bounded `IN` list at a time. */
export async function voidClaimCodes(db: Executor, identityIds: readonly string[]): Promise<void> {
  for (let i = 0; i < identityIds.length; i += 900) {
    await db
      .deleteFrom('claim_codes')
      .where('identity_id', 'in', identityIds.slice(i, i + 900))
      .execute();
  }
}
