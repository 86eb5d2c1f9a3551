import type { Executor } from '../../db/database.js';
import { forUpdate } from '../../db/dialect.js';
import type { MergeTable } from './merges.table.js';

export function insertMerge(db: Executor, row: MergeTable) {
  return db.insertInto('merges').values(row).execute();
}

export function lockMerge(db: Executor, id: string) {
  return forUpdate(db, db.selectFrom('merges').selectAll().where('id', '=', id)).executeTakeFirst();
}

export function markUndone(db: Executor, id: string, at: string) {
  return db.updateTable('merges').set({ undone_at: at }).where('id', '=', id).execute();
}

/** The live (not undone) merge that took this customer away, if any. */
export function findLiveMergeOfSource(db: Executor, sourceId: string) {
  return db
    .selectFrom('merges')
    .select(['id', 'target_customer_id'])
    .where('source_customer_id', '=', sourceId)
    .where('undone_at', 'is', null)
    .orderBy('merged_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Newest first; with a customer, the merges it took part in on either side. */
export function listMerges(db: Executor, customerId: string | undefined, limit: number) {
  let q = db.selectFrom('merges').selectAll();
  if (customerId !== undefined) {
    q = q.where((eb) => eb.or([eb('target_customer_id', '=', customerId), eb('source_customer_id', '=', customerId)]));
  }
  return q.orderBy('merged_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Of these customer ids, those a live merge took away, with where each went. */
export async function liveMergeTargetsOf(db: Executor, sourceIds: readonly string[]): Promise<Map<string, string>> {
  const into = new Map<string, string>();
  for (let i = 0; i < sourceIds.length; i += 900) {
    const rows = await db
      .selectFrom('merges')
      .select(['source_customer_id', 'target_customer_id'])
      .where('source_customer_id', 'in', sourceIds.slice(i, i + 900))
      .where('undone_at', 'is', null)
      .execute();
    for (const row of rows) into.set(row.source_customer_id, row.target_customer_id);
  }
  return into;
}
