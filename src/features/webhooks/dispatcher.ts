import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { Clock } from '../../internal/clock.js';
import { createPoller } from '../shared/poller.js';
import { isSuccess, type SendOptions, type SendResult, sendWebhook } from './sender.js';
import { retryDelaySeconds } from './webhooks.js';
import { claimDelivery, type DueDelivery, findDueHeads, insertAttempt, settleDelivery } from './webhooks.repository.js';

export interface DispatcherOptions extends SendOptions {
  /** Deliveries in flight at once, each to a different subscription. */
  concurrency: number;
  /** How often the outbox is read when nothing woke the loop (other replicas' events, retries). */
  pollIntervalMs: number;
}

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

/**
 * The delivery loop. Each subscription's oldest pending delivery (its head) is the only one that
 * may be sent, so its events arrive in the order they were written; different subscriptions are
 * sent to side by side, so a receiver that hangs delays only its own. A delivery is taken for an
 * attempt by a compare-and-set in the database (claimDelivery) that also counts the attempt and
 * leases it: replicas on one PostgreSQL database share the work and never send the same attempt
 * twice; if a sender dies mid-attempt, the lease runs out and the next attempt is made (at least
 * once). Times come from the injectable clock, so retries are tested by moving it.
 */
export function createDispatcher(deps: {
  db: Kysely<Database>;
  clock: Clock;
  options: DispatcherOptions;
  log: { warn(object: object, message: string): void };
}) {
  const { db, clock, options } = deps;
  const inFlight = new Map<string, Promise<void>>();
  const outcomes: Record<DeliveryOutcome, number> = { delivered: 0, retrying: 0, failed: 0 };
  // A lease outlives the longest attempt (cut off at the timeout) and the writes that record it:
  // only a sender that died lets it lapse, and then the next attempt is made after it.
  const leaseMs = options.timeoutMs + 5_000;

  async function attempt(head: DueDelivery, attemptNumber: number) {
    const started = clock.now();
    const result: SendResult = await sendWebhook(
      {
        url: head.url,
        secret: head.secret,
        eventId: head.event_id,
        payload: head.payload,
        timestampSeconds: Math.floor(started.getTime() / 1000),
      },
      options,
    );
    const now = clock.now();
    const at = now.toISOString();
    let outcome: DeliveryOutcome;
    let nextAttemptAt: string | null = null;
    if (isSuccess(result)) {
      outcome = 'delivered';
    } else {
      const delay = retryDelaySeconds(attemptNumber);
      outcome = delay === undefined ? 'failed' : 'retrying';
      if (delay !== undefined) nextAttemptAt = new Date(now.getTime() + delay * 1000).toISOString();
    }
    const recorded = await db.transaction().execute(async (trx) => {
      const settled = await settleDelivery(
        trx,
        { seq: head.seq, attempt: attemptNumber },
        { status: outcome === 'retrying' ? 'pending' : outcome, nextAttemptAt, now: at },
      );
      // Another sender took the delivery after this one's lease ran out: its record stands.
      if (!settled) return false;
      await insertAttempt(trx, {
        id: randomUUID(),
        subscription_id: head.subscription_id,
        event_id: head.event_id,
        type: head.type,
        attempt: attemptNumber,
        status_code: result.statusCode,
        error: result.error?.slice(0, 500) ?? null,
        at,
      });
      return true;
    });
    if (recorded) outcomes[outcome]++;
  }

  /** Claims every due head it has room for and starts sending them; returns how many. */
  async function claimAndStart(): Promise<number> {
    const room = options.concurrency - inFlight.size;
    if (room <= 0) return 0;
    const now = clock.now();
    const at = now.toISOString();
    const heads = await findDueHeads(db, at, { exclude: [...inFlight.keys()], limit: room });
    let started = 0;
    for (const head of heads) {
      const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
      if (!(await claimDelivery(db, head, at, leaseUntil))) continue;
      started++;
      const sending = attempt(head, head.attempts + 1)
        .catch((error: unknown) =>
          deps.log.warn({ err: error, event_id: head.event_id }, 'webhook attempt not recorded'),
        )
        .finally(() => {
          inFlight.delete(head.subscription_id);
          // That subscription's next event may be due at once: look again.
          if (!poller.stopped) void pump();
        });
      inFlight.set(head.subscription_id, sending);
    }
    return started;
  }

  // One look at the outbox at a time; a wake meanwhile makes it look again.
  const poller = createPoller({
    pollIntervalMs: options.pollIntervalMs,
    run: async () => {
      await claimAndStart();
    },
    onError: (error) => deps.log.warn({ err: error }, 'webhook delivery loop could not read the outbox'),
  });
  const pump = poller.pump;

  return {
    /** Deliveries by outcome since start (for /metrics). */
    outcomes,

    start: poller.start,

    /** Something was written to the outbox: look now rather than at the next poll. */
    wake: poller.wake,

    /**
     * Sends everything due now and waits for the attempts to be recorded, until nothing due is
     * left (a retry scheduled for later is not waited for). For tests and the command line.
     */
    async drain() {
      for (;;) {
        await pump();
        const sending = [...inFlight.values()];
        if (sending.length === 0) {
          if ((await claimAndStart()) === 0) return;
          continue;
        }
        await Promise.all(sending);
      }
    },

    /** Stops looking for work and waits for the attempts in flight (each bounded by the timeout). */
    async stop() {
      await poller.stop();
      await Promise.all([...inFlight.values()]);
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
