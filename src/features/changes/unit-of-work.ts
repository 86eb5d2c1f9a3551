import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';
import { notifyOnCommit } from '../../db/dialect.js';
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
 * Runs a change in one transaction with its audit events and the webhook events they emit (the
 * outbox: the one place audit actions become events), then tells the caches what went stale:
 * other replicas through a NOTIFY sent on commit (PostgreSQL), this process after the commit, so
 * that no reader can cache the old row again once the invalidation ran.
 */
export function createUnitOfWork(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hub: ChangeHub;
  origin: string;
  /** Webhook events; none are written without it (tests of other features may leave it out). */
  outbox?: Outbox | undefined;
  /** Called after a commit that wrote webhook events (wakes this process's delivery loop). */
  onEventsWritten?: (() => void) | undefined;
}): UnitOfWork {
  return async (actor, work) => {
    const changes: ChangeSet = { identities: [], apiKeyHashes: [] };
    let events = 0;
    const stale = () => changes.identities.length > 0 || changes.apiKeyHashes.length > 0 || changes.webhooks === true;
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
      if (stale()) await notifyOnCommit(trx, NOTIFY_CHANNEL, encodeChanges(deps.origin, changes));
      return value;
    });
    commits++;
    if (stale()) deps.hub.publish(changes);
    if (events > 0) deps.onEventsWritten?.();
    return result;
  };
}

let commits = 0;

/**
 * Units of work committed by this process, by any of its apps (tests run several on one SQLite
 * file): a reason for services.ts to ask SQLite for other connections' commits again at once.
 */
export const commitsInProcess = () => commits;
