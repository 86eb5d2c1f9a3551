import { LRUCache } from 'lru-cache';
import type { ChangeHub } from '../changes/changes.js';
import type { LookupRow } from './identities.repository.js';

export interface LookupCacheOptions {
  /** Entries kept; 0 turns the cache off. */
  max: number;
  ttlMs: number;
  /** How long "nobody owns this" is remembered. */
  missTtlMs: number;
}

const keyOf = (channel: string, externalId: string) => `${channel}\u0000${externalId}`;

/**
 * The reverse lookup's cache: every scope of one normalized (channel, external_id), so that one
 * invalidation covers all the instance ids it was asked with. Never stale after a committed write
 * of this process: writes invalidate after commit and bump an epoch, and a reader that started
 * before an invalidation does not store what it read.
 */
export class LookupCache {
  readonly #lru: LRUCache<string, LookupRow[]> | undefined;
  readonly #missTtlMs: number;
  #epoch = 0;
  hits = 0;
  misses = 0;

  constructor(options: LookupCacheOptions, hub: ChangeHub) {
    this.#missTtlMs = options.missTtlMs;
    if (options.max > 0 && options.ttlMs > 0) {
      this.#lru = new LRUCache({ max: options.max, ttl: options.ttlMs, ttlAutopurge: false });
    }
    hub.subscribe((changes) => {
      if (changes.reset) this.clear();
      for (const [channel, externalId] of changes.identities) this.invalidate(channel, externalId);
    });
  }

  get enabled() {
    return this.#lru !== undefined;
  }

  get size() {
    return this.#lru?.size ?? 0;
  }

  get(channel: string, externalId: string): LookupRow[] | undefined {
    const rows = this.#lru?.get(keyOf(channel, externalId));
    if (rows) this.hits++;
    else this.misses++;
    return rows;
  }

  /** Call before reading the database; pass the value to `set`. */
  epoch() {
    return this.#epoch;
  }

  set(channel: string, externalId: string, rows: LookupRow[], epoch: number) {
    if (!this.#lru || epoch !== this.#epoch) return;
    if (rows.length === 0) {
      if (this.#missTtlMs > 0) this.#lru.set(keyOf(channel, externalId), rows, { ttl: this.#missTtlMs });
      return;
    }
    this.#lru.set(keyOf(channel, externalId), rows);
  }

  invalidate(channel: string, externalId: string) {
    this.#epoch++;
    this.#lru?.delete(keyOf(channel, externalId));
  }

  clear() {
    this.#epoch++;
    this.#lru?.clear();
  }
}
