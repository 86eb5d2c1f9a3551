import type { Count, CounterStore } from './counter-store.js';

/** Counters swept once there are this many, so that a flood of distinct keys cannot grow memory without bound. */
const SWEEP_AT = 50_000;

/** Counters of this process only: right for one replica, and for tests. */
export function createMemoryCounterStore(now: () => number): CounterStore {
  const windows = new Map<string, { count: number; endsAt: number }>();

  function sweep(at: number) {
    for (const [key, window] of windows) if (window.endsAt <= at) windows.delete(key);
  }

  return {
    kind: 'memory',
    async hit(key: string, windowMs: number): Promise<Count> {
      const at = now();
      let window = windows.get(key);
      if (!window || window.endsAt <= at) {
        if (windows.size >= SWEEP_AT) sweep(at);
        window = { count: 0, endsAt: at + windowMs };
        windows.set(key, window);
      }
      window.count++;
      return { count: window.count, resetInMs: window.endsAt - at };
    },
    async refund(key: string) {
      const window = windows.get(key);
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
