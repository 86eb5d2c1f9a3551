import { randomUUID } from 'node:crypto';
import type { Executor } from '../../db/database.js';
import type { AuditEntry } from '../changes/changes.js';
import { eventsOfAudit, subjectsOfEvent, TYPES_OF_ACTION } from './event-mapping.js';
import { enabledEventLists, fanOutEvent, insertEvent, insertEventSubjects } from './webhooks.repository.js';

/** How long the list of wanted event types is trusted without a word from a change (ms). */
const INTEREST_TTL_MS = 1_000;

/**
 * Writes the events of an audited change into the outbox, in the change's own transaction: a
 * rolled-back change leaves none, a committed one loses none.
 *
 * Nothing is written for an event type no enabled subscription wants, so that a service without
 * webhooks pays one Set lookup per change and no row. Which types are wanted is cached: dropped
 * when a subscription changes (this process at once, other replicas by the change NOTIFY) and
 * read again at least every second anyway (the command line's import hears no NOTIFY). The cache
 * only decides whether to write the event: which subscriptions get it is chosen by the database
 * in the same transaction (fanOutEvent), so a stale cache can at worst write an event nobody
 * gets, or, for a subscription created on another replica within the last second, skip one.
 */
export class Outbox {
  #wanted: Set<string> | undefined;
  #loadedAt = Number.NEGATIVE_INFINITY;

  /** Forget which types are wanted; the next change reads them again. */
  invalidate() {
    this.#wanted = undefined;
  }

  async #wantedTypes(db: Executor): Promise<Set<string>> {
    const at = performance.now();
    if (this.#wanted && at - this.#loadedAt < INTEREST_TTL_MS) return this.#wanted;
    const wanted = new Set<string>();
    for (const list of await enabledEventLists(db)) {
      for (const type of JSON.parse(list) as string[]) wanted.add(type);
    }
    this.#wanted = wanted;
    this.#loadedAt = at;
    return wanted;
  }

  /** Writes the entry's events that someone wants; returns how many. */
  async record(db: Executor, entry: AuditEntry, now: string): Promise<number> {
    const types = TYPES_OF_ACTION[entry.action];
    if (!types) return 0;
    const wanted = await this.#wantedTypes(db);
    if (!wanted.has('*') && !types.some((type) => wanted.has(type))) return 0;
    let written = 0;
    for (const event of eventsOfAudit(entry)) {
      if (!wanted.has('*') && !wanted.has(event.type)) continue;
      const id = randomUUID();
      const payload = JSON.stringify({ id, type: event.type, created_at: now, data: event.data });
      await insertEvent(db, { id, type: event.type, created_at: now, payload });
      await insertEventSubjects(db, id, subjectsOfEvent(event.data));
      await fanOutEvent(db, { id, type: event.type }, now);
      written++;
    }
    return written;
  }
}
