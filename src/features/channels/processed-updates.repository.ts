import type { Executor } from '../../db/database.js';
import type { NewProcessedChatUpdate } from './processed-updates.table.js';

/** Records an update; false when it was recorded already (by this replica or another). */
export async function recordUpdate(db: Executor, row: NewProcessedChatUpdate): Promise<boolean> {
  const result = await db
    .insertInto('processed_chat_updates')
    .values(row)
    .onConflict((oc) => oc.columns(['channel', 'update_key']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Forgets the updates remembered long enough; returns how many. */
export async function deleteExpiredUpdates(db: Executor, now: string): Promise<number> {
  const result = await db.deleteFrom('processed_chat_updates').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
