/** A fixed-window counter: how often something happened in the current window, and when the window ends. */
export interface Count {
  count: number;
  /** Milliseconds until this window ends and the count starts again from zero. */
  resetInMs: number;
}

/**
 * Where throttling counters live: in this process, or in Redis so that every replica sees the
 * same counts. Fixed windows: the first hit opens a window of `windowMs`; it is simple, needs one
 * round trip, and at worst lets twice the limit through across a window boundary, which the
 * limits below are chosen to tolerate.
 */
export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  /** Adds one to `key` and returns the new count. */
  hit(key: string, windowMs: number): Promise<Count>;
  /** Takes one back (an attempt that turned out not to count); never below zero, never opens a window. */
  refund(key: string): Promise<void>;
  close(): Promise<void>;
}
