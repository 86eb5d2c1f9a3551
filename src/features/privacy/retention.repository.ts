import type { Executor } from '../../db/database.js';
import { isPostgres } from '../../db/dialect.js';

// One batch each: `DELETE … WHERE key IN (SELECT key … LIMIT n)`, short transactions that never
// hold a table for long. On PostgreSQL the inner SELECT locks its rows and skips rows another
// replica has locked (FOR UPDATE SKIP LOCKED), so replicas pruning at once take different
// batches instead of the same one twice. SQLite has one writer at a time anyway.

const deleted = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);

export async function pruneAuditBatch(db: Executor, before: string, limit: number): Promise<number> {
  const postgres = isPostgres(db);
  const result = await db
    .deleteFrom('audit_events')
    .where('id', 'in', (eb) => {
      const q = eb.selectFrom('audit_events').select('id').where('at', '<', before).orderBy('at').limit(limit);
      return postgres ? q.forUpdate().skipLocked() : q;
    })
    .executeTakeFirst();
  return deleted(result);
}

export async function pruneWebhookAttemptsBatch(db: Executor, before: string, limit: number): Promise<number> {
  const postgres = isPostgres(db);
  const result = await db
    .deleteFrom('webhook_attempts')
    .where('id', 'in', (eb) => {
      const q = eb.selectFrom('webhook_attempts').select('id').where('at', '<', before).orderBy('at').limit(limit);
      return postgres ? q.forUpdate().skipLocked() : q;
    })
    .executeTakeFirst();
  return deleted(result);
}

/** Finished (delivered or given up) deliveries last touched before `before`; pending ones stay. */
export async function pruneFinishedDeliveriesBatch(db: Executor, before: string, limit: number): Promise<number> {
  const postgres = isPostgres(db);
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('seq', 'in', (eb) => {
      const q = eb
        .selectFrom('webhook_deliveries')
        .select('seq')
        .where('status', 'in', ['delivered', 'failed'])
        .where('updated_at', '<', before)
        .limit(limit);
      return postgres ? q.forUpdate().skipLocked() : q;
    })
    .executeTakeFirst();
  return deleted(result);
}

/** Events written before `before` that no delivery waits for any more (their subjects go with them). */
export async function pruneWebhookEventsBatch(db: Executor, before: string, limit: number): Promise<number> {
  const postgres = isPostgres(db);
  const result = await db
    .deleteFrom('webhook_events')
    .where('id', 'in', (eb) => {
      const q = eb
        .selectFrom('webhook_events as e')
        .select('e.id')
        .where('e.created_at', '<', before)
        .where((w) =>
          w.not(w.exists(w.selectFrom('webhook_deliveries as d').select('d.seq').whereRef('d.event_id', '=', 'e.id'))),
        )
        .orderBy('e.created_at')
        .limit(limit);
      return postgres ? q.forUpdate().skipLocked() : q;
    })
    .executeTakeFirst();
  return deleted(result);
}
