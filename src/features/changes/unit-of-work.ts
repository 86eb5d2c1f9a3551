import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';
import { isPostgres, notifyOnCommit } from '../../db/dialect.js';
import { classifyDbError, databaseBusy, noteWriteSucceeded } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { insertAuditEvent } from '../audit/audit.repository.js';
import type { Outbox } from '../webhooks/outbox.js';
import {
  type Actor,
  type AuditEntry,
  type ChangeHub,
  type ChangeSet,
  encodeChanges,
  NOTIFY_CHANNEL,
} from './changes.js';

/** What a transaction can record besides its own writes. */
export interface Effects {
  /** Writes an audit event in the same transaction as the change it describes. */
  audit(entry: AuditEntry): Promise<void>;
  identityChanged(channel: string, externalId: string): void;
  apiKeyChanged(keyHash: string): void;
  /** A webhook subscription was created, changed or deleted. */
  webhooksChanged(): void;
}

export type UnitOfWork = <T>(
  actor: Actor,
  work: (trx: Transaction<Database>, effects: Effects) => Promise<T>,
) => Promise<T>;

/**
 * How a transaction that lost a race is run again: PostgreSQL's deadlocks and serialization
 * failures once (the other transaction has gone through meanwhile); SQLite's lock held by another
 * process (the command line's import) every `pauseMs` until `waitMs` have passed, without blocking
 * the event loop (the connection's own busy_timeout is kept short; see create-db.ts).
 */
export interface RetryPolicy {
  waitMs: number;
  pauseMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { waitMs: 0, pauseMs: 10 };
/** Whether a change makes anything stale that caches (here or on other replicas) must drop. */
const isStale = (changes: ChangeSet) =>
  changes.identities.length > 0 || changes.apiKeyHashes.length > 0 || changes.webhooks === true;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a change in one transaction with its audit events and the webhook events they emit (the
 * outbox: the one place audit actions become events), then tells the caches what went stale:
 * other replicas through a NOTIFY sent on commit (PostgreSQL), this process after the commit, so
 * that no reader can cache the old row again once the invalidation ran.
 *
 * Lock order, everywhere: the customer row, then its identity rows, then their claim codes (a
 * cascade from a customer or an identity takes them in that order too). A transaction that loses
 * a race all the same is run again (see RetryPolicy); `work` must therefore do nothing outside
 * its transaction that cannot be done twice. What still fails is a 503 with Retry-After.
 */
export function createUnitOfWork(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hub: ChangeHub;
  origin: string;
  retry?: RetryPolicy;
  /** Counts for /metrics: transactions run again, and those that lost again (a 503). */
  retries?: { retried: number; gave_up: number };
  /** Webhook events; none are written without it (tests of other features may leave it out). */
  outbox?: Outbox | undefined;
  /** Called after a commit that wrote webhook events (wakes this process's delivery loop). */
  onEventsWritten?: (() => void) | undefined;
}): UnitOfWork {
  const retry = deps.retry ?? DEFAULT_RETRY;
  const once = async <T>(
    actor: Actor,
    work: (trx: Transaction<Database>, effects: Effects) => Promise<T>,
  ): Promise<[T, ChangeSet, number]> => {
    const changes: ChangeSet = { identities: [], apiKeyHashes: [] };
    let events = 0;
    const result = await deps.db.transaction().execute(async (trx) => {
      const effects: Effects = {
        audit: async (entry) => {
          const at = isoNow(deps.clock);
          await insertAuditEvent(trx, {
            id: randomUUID(),
            at,
            actor_key_id: actor.keyId,
            actor: actor.name,
            action: entry.action,
            customer_id: entry.customerId ?? null,
            identity_id: entry.identityId ?? null,
            changes: JSON.stringify({
              before: entry.before ?? null,
              after: entry.after ?? null,
              ...(entry.source ? { source: entry.source } : {}),
            }),
          });
          if (deps.outbox) events += await deps.outbox.record(trx, entry, at);
        },
        identityChanged: (channel, externalId) => changes.identities.push([channel, externalId]),
        apiKeyChanged: (hash) => changes.apiKeyHashes.push(hash),
        webhooksChanged: () => {
          changes.webhooks = true;
        },
      };
      const value = await work(trx, effects);
      if (isStale(changes)) await notifyOnCommit(trx, NOTIFY_CHANNEL, encodeChanges(deps.origin, changes));
      return value;
    });
    return [result, changes, events];
  };

  return async <T>(actor: Actor, work: (trx: Transaction<Database>, effects: Effects) => Promise<T>) => {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      let outcome: [T, ChangeSet, number];
      try {
        outcome = await once(actor, work);
      } catch (error) {
        if (classifyDbError(error) !== 'retry') throw error;
        const sqlite = !isPostgres(deps.db);
        const again = sqlite ? performance.now() - started + retry.pauseMs <= retry.waitMs : attempt === 1;
        if (!again) {
          if (deps.retries) deps.retries.gave_up++;
          throw databaseBusy();
        }
        if (deps.retries) deps.retries.retried++;
        // A little jitter, so that two transactions that deadlocked do not meet again in step.
        await sleep(sqlite ? retry.pauseMs : Math.random() * retry.pauseMs);
        continue;
      }
      const [result, changes, events] = outcome;
      commits++;
      noteWriteSucceeded();
      if (isStale(changes)) deps.hub.publish(changes);
      if (events > 0) deps.onEventsWritten?.();
      return result;
    }
  };
}

let commits = 0;

/**
 * Units of work committed by this process, by any of its apps (tests run several on one SQLite
 * file): a reason for services.ts to ask SQLite for other connections' commits again at once.
 */
export const commitsInProcess = () => commits;
