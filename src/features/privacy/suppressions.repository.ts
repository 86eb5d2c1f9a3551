import type { Executor } from '../../db/database.js';
import type { NewSuppressionRow } from './suppressions.table.js';

export async function findSuppressedHashes(db: Executor, hashes: readonly string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await db.selectFrom('suppressions').select('value_hash').where('value_hash', 'in', hashes).execute();
  return new Set(rows.map((row) => row.value_hash));
}

/** Whether anything is suppressed at all: the import asks once a batch before hashing its rows. */
export async function anySuppression(db: Executor): Promise<boolean> {
  return (await db.selectFrom('suppressions').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Inserts the rows whose hash is not suppressed yet. */
export async function insertSuppressions(db: Executor, rows: readonly NewSuppressionRow[]) {
  if (rows.length === 0) return;
  await db
    .insertInto('suppressions')
    .values([...rows])
    .onConflict((oc) => oc.column('value_hash').doNothing())
    .execute();
}

export function listSuppressions(db: Executor) {
  return db
    .selectFrom('suppressions')
    .select(['id', 'kind', 'channel', 'created_at'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function deleteSuppression(db: Executor, hash: string): Promise<boolean> {
  const result = await db.deleteFrom('suppressions').where('value_hash', '=', hash).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
