import { LRUCache } from 'lru-cache';
import type { Count, CounterStore } from './counter-store.js';

/**
 * How many counters this process keeps at most. Past it, the least recently used is forgotten:
 * a flood of distinct keys (one per address that failed once) costs a bounded amount of memory
 * and constant time per hit, never a rescan. A forgotten counter starts again from zero, which
 * only a flood of this many other keys within one window can cause.
 */
export const MEMORY_COUNTERS_MAX = 100_000;

interface Window {
  count: number;
  endsAt: number;
}

export interface MemoryCounterStore extends CounterStore {
  /** Counters held now (for tests and metrics). */
  readonly size: number;
}

/** Counters of this process only: right for one replica, and for tests. */
export function createMemoryCounterStore(now: () => number, options: { max?: number } = {}): MemoryCounterStore {
  const windows = new LRUCache<string, Window>({ max: options.max ?? MEMORY_COUNTERS_MAX });

  return {
    kind: 'memory',
    get size() {
      return windows.size;
    },
    async hit(key: string, windowMs: number): Promise<Count> {
      const at = now();
      let window = windows.get(key);
      if (!window || window.endsAt <= at) {
        window = { count: 0, endsAt: at + windowMs };
        windows.set(key, window);
      }
      window.count++;
      return { count: window.count, resetInMs: window.endsAt - at };
    },
    async refund(key: string) {
      const window = windows.peek(key);
      if (!window || window.endsAt <= now()) return;
      window.count--;
      // A counter back at zero is forgotten, so that refused or successful attempts for ever new
      // keys (random senders) leave nothing behind.
      if (window.count <= 0) windows.delete(key);
    },
    async close() {
      windows.clear();
    },
  };
}
