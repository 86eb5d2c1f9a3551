import type { Kysely } from 'kysely';
import type { Database, Executor } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import type { Clock } from '../../internal/clock.js';
import { pruneLinkRequests } from './link-requests.privacy.js';
import {
  pruneAuditBatch,
  pruneFinishedDeliveriesBatch,
  pruneWebhookAttemptsBatch,
  pruneWebhookEventsBatch,
} from './retention.repository.js';

const DAY_MS = 86_400_000;
/** Decided or expired link requests are kept this long (CONTRACT.md), then pruned. */
export const LINK_REQUEST_RETENTION_DAYS = 30;
/** The first pass after start, then one every interval: old rows pile up slowly. */
const FIRST_RUN_AFTER_MS = 10_000;
const RUN_EVERY_MS = 10 * 60_000;

export interface RetentionOptions {
  /** 0 keeps the audit trail for ever. */
  auditMs: number;
  webhookEventsMs: number;
  /** Rows deleted per statement (and per transaction). */
  batchSize: number;
}

export type PrunedKind =
  | 'audit_events'
  | 'webhook_attempts'
  | 'webhook_deliveries'
  | 'webhook_events'
  | 'link_requests';

type Batch = (db: Executor, before: string, limit: number) => Promise<number>;

export type RetentionService = ReturnType<typeof createRetentionService>;

/**
 * Deletes what is past its retention, in the background, a small batch per statement with a turn
 * of the event loop between batches, so that requests are never held behind a long delete.
 * Several replicas may run it at once: each batch takes rows no other replica holds (see
 * retention.repository.ts), so the work is shared, not repeated.
 */
export function createRetentionService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  options: RetentionOptions;
  onError: (error: unknown) => void;
}) {
  const { db, clock, options } = deps;
  /** Rows deleted by this process since start, for /metrics. */
  const pruned: Record<PrunedKind, number> = {
    audit_events: 0,
    webhook_attempts: 0,
    webhook_deliveries: 0,
    webhook_events: 0,
    link_requests: 0,
  };
  const counts = { batches: 0 };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  /** Set by stop(): a pass in progress ends after its current batch. */
  let closing = false;

  async function prune(kind: PrunedKind, batch: Batch, keepMs: number) {
    const before = new Date(clock.now().getTime() - keepMs).toISOString();
    for (;;) {
      if (closing) return;
      const n = await mapDbError(() => batch(db, before, options.batchSize));
      counts.batches++;
      pruned[kind] += n;
      if (n < options.batchSize) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function runOnce() {
    if (options.auditMs > 0) await prune('audit_events', pruneAuditBatch, options.auditMs);
    await prune('webhook_attempts', pruneWebhookAttemptsBatch, options.webhookEventsMs);
    await prune('webhook_deliveries', pruneFinishedDeliveriesBatch, options.webhookEventsMs);
    await prune('webhook_events', pruneWebhookEventsBatch, options.webhookEventsMs);
    await prune('link_requests', pruneLinkRequests, LINK_REQUEST_RETENTION_DAYS * DAY_MS);
  }

  function schedule(ms: number) {
    timer = setTimeout(() => {
      running = runOnce()
        .catch(deps.onError)
        .finally(() => {
          running = undefined;
          if (!stopped) schedule(RUN_EVERY_MS);
        });
    }, ms);
    timer.unref();
  }

  return {
    pruned,
    counts,
    /** One full pass over every kind, until nothing past its retention is left (tests, the CLI). */
    runOnce: () => {
      running ??= runOnce().finally(() => {
        running = undefined;
      });
      return running;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(FIRST_RUN_AFTER_MS);
    },
    async stop() {
      stopped = true;
      closing = true;
      clearTimeout(timer);
      await running;
    },
  };
}
