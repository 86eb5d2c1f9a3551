import { LRUCache } from 'lru-cache';
import type { ChangeHub } from '../changes/changes.js';
import { identityKeyText, lookupAnswerJson, resolveScope } from './identities.js';
import type { LookupRow } from './identities.repository.js';

export interface LookupCacheOptions {
  /** Entries kept; 0 turns the cache off. */
  max: number;
  ttlMs: number;
  /** How long "nobody owns this" is remembered. */
  missTtlMs: number;
}

/**
 * How long lru-cache may reuse its reading of the clock for TTL checks: a hundredth of the TTL,
 * at most 100 ms. Its default (1 ms) sets a timer every millisecond that the cache is used, which
 * took about 1 µs of every cached lookup at 6,000/s (CPU profile); 1 % of the TTL is not worth it.
 */
const ttlResolution = (ttlMs: number) => Math.max(1, Math.min(100, Math.floor(ttlMs / 100)));

/** lru-cache's options for one of the two caches: bounded, entries expire, nothing purged in the background. */
const bounded = (max: number, ttlMs: number) => ({
  max,
  ttl: ttlMs,
  ttlResolution: ttlResolution(ttlMs),
  ttlAutopurge: false,
});

/** The answer of one scope: its instance id, and the lookup's response body as JSON text. */
type ScopedAnswer = [instanceId: string | null, json: string];

/**
 * Entries are the answers themselves, as the JSON text the route sends, so that a hit costs no
 * parsing and no serialization: the body itself for the usual single unscoped identity, and a
 * JSON array of `ScopedAnswer` when there are scopes (at least one row).
 * One string per entry also keeps the cache small (about 420 bytes an entry, measured).
 */
export function packAnswers(rows: readonly LookupRow[]): string {
  const only = rows[0];
  if (rows.length === 1 && only && only.instance_id === null) return lookupAnswerJson(only);
  return JSON.stringify(rows.map((r): ScopedAnswer => [r.instance_id, lookupAnswerJson(r)]));
}

/** The answer for `instanceId` (see resolveScope), or null when no scope answers. */
export function answerOf(packed: string, instanceId: string | undefined): string | null {
  if (packed.charCodeAt(0) === 0x7b /* { */) return packed;
  const answer = resolveScope(
    (JSON.parse(packed) as ScopedAnswer[]).map(([instance_id, json]) => ({ instance_id, json })),
    instanceId,
  );
  return answer ? answer.json : null;
}

/**
 * The reverse lookup's cache: every scope of one normalized (channel, external_id), so that one
 * invalidation covers all the instance ids it was asked with. Never stale after a committed write
 * of this process: writes invalidate after commit and bump an epoch, and a reader that started
 * before an invalidation does not store what it read.
 */
export class LookupCache {
  readonly #lru: LRUCache<string, string> | undefined;
  /**
   * "Nobody has this identity", kept apart and at most a tenth as many, so that a flood of
   * lookups for unknown ids (a misconfigured runtime, a scan) cannot push out the answers for
   * real people.
   */
  readonly #misses: LRUCache<string, true> | undefined;
  #epoch = 0;
  hits = 0;
  misses = 0;

  constructor(options: LookupCacheOptions, hub: ChangeHub) {
    if (options.max > 0 && options.ttlMs > 0) {
      this.#lru = new LRUCache(bounded(options.max, options.ttlMs));
    }
    if (this.#lru && options.missTtlMs > 0) {
      this.#misses = new LRUCache(bounded(Math.ceil(options.max / 10), options.missTtlMs));
    }
    hub.subscribe((changes) => {
      if (changes.reset) this.clear();
      for (const [channel, externalId] of changes.identities) this.invalidate(channel, externalId);
    });
  }

  get enabled() {
    return this.#lru !== undefined;
  }

  /** Found identities cached, and "nobody has this" answers cached. */
  get size() {
    return (this.#lru?.size ?? 0) + (this.#misses?.size ?? 0);
  }

  /**
   * The cached answer for this identity and instance scope: the response body as JSON text, null
   * when it is known that nobody has it, undefined when the cache does not know.
   */
  answer(channel: string, externalId: string, instanceId: string | undefined): string | null | undefined {
    const key = identityKeyText(channel, externalId);
    const packed = this.#lru?.get(key);
    if (packed !== undefined) {
      this.hits++;
      return answerOf(packed, instanceId);
    }
    if (this.#misses?.get(key)) {
      this.hits++;
      return null;
    }
    this.misses++;
    return undefined;
  }

  /** Call before reading the database; pass the value to `set`. */
  epoch() {
    return this.#epoch;
  }

  /** Every scope of one identity, as read from the database (an empty list: nobody has it). */
  set(channel: string, externalId: string, rows: readonly LookupRow[], epoch: number) {
    this.store(channel, externalId, rows.length === 0 ? null : packAnswers(rows), epoch);
  }

  /**
   * `set` with the rows already packed (`packAnswers`; null: nobody has it), so that the lookup
   * that read them answers from the same text rather than serializing twice.
   */
  store(channel: string, externalId: string, packed: string | null, epoch: number) {
    if (!this.#lru || epoch !== this.#epoch) return;
    // One answer per identity, in one cache or the other.
    const key = identityKeyText(channel, externalId);
    if (packed === null) {
      this.#lru.delete(key);
      this.#misses?.set(key, true);
      return;
    }
    this.#misses?.delete(key);
    this.#lru.set(key, packed);
  }

  invalidate(channel: string, externalId: string) {
    this.#epoch++;
    const key = identityKeyText(channel, externalId);
    this.#lru?.delete(key);
    this.#misses?.delete(key);
  }

  clear() {
    this.#epoch++;
    this.#lru?.clear();
    this.#misses?.clear();
  }
}
