import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { CounterStore } from '../../src/features/throttle/counter-store.js';
import { createMemoryCounterStore } from '../../src/features/throttle/memory-counter-store.js';
import { createRedisCounterStore } from '../../src/features/throttle/redis-counter-store.js';

/**
 * The two stores behind every limit must agree: the HTTP tests run on memory, the replicas on
 * Redis. Direct tests, because what matters here (nothing left behind) cannot be seen over HTTP.
 */
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `ids-test-store-${randomUUID()}:`;
let clock = 1_000_000;

const stores: { name: string; make: () => CounterStore; exists: (key: string) => Promise<boolean> }[] = [
  {
    name: 'memory',
    make: () => createMemoryCounterStore(() => clock),
    exists: async () => false, // checked through the fresh window below
  },
  {
    name: 'redis',
    make: () => createRedisCounterStore(redisUrl, { prefix, onError: () => undefined }),
    exists: async (key) => {
      const redis = new Redis(redisUrl);
      try {
        return (await redis.exists(`${prefix}${key}`)) === 1;
      } finally {
        redis.disconnect();
      }
    },
  },
];

describe.each(stores)('$name counter store', ({ make, exists }) => {
  const store = make();
  afterAll(() => store.close());

  it('counts hits in a window and reports the time left', async () => {
    const key = randomUUID();
    expect((await store.hit(key, 60_000)).count).toBe(1);
    const second = await store.hit(key, 60_000);
    expect(second.count).toBe(2);
    expect(second.resetInMs).toBeGreaterThan(0);
    expect(second.resetInMs).toBeLessThanOrEqual(60_000);
  });

  it('takes a refunded hit back, and forgets a counter back at zero', async () => {
    const key = randomUUID();
    await store.hit(key, 60_000);
    await store.hit(key, 60_000);
    await store.refund(key);
    expect((await store.hit(key, 60_000)).count).toBe(2);
    await store.refund(key);
    await store.refund(key);
    expect(await exists(key)).toBe(false);
    expect((await store.hit(key, 60_000)).count).toBe(1);
  });

  it('never creates a counter by refunding, nor goes below zero', async () => {
    const key = randomUUID();
    await store.refund(key);
    expect(await exists(key)).toBe(false);
    expect((await store.hit(key, 60_000)).count).toBe(1);
  });
});

describe('memory counter store windows', () => {
  it('starts again from zero when the window ends', async () => {
    const store = createMemoryCounterStore(() => clock);
    await store.hit('k', 1_000);
    await store.hit('k', 1_000);
    clock += 1_001;
    const fresh = await store.hit('k', 1_000);
    expect(fresh).toEqual({ count: 1, resetInMs: 1_000 });
    await store.close();
  });
});

describe('memory counter store bound', () => {
  it('keeps at most its maximum of counters, forgetting the least recently used', async () => {
    const store = createMemoryCounterStore(() => clock, { max: 1_000 });
    await store.hit('kept', 60_000);
    for (let i = 0; i < 5_000; i++) {
      await store.hit(`address-${i}`, 60_000);
      // A counter in use stays: it is the most recently used.
      if (i % 500 === 0) await store.hit('kept', 60_000);
    }
    expect(store.size).toBe(1_000);
    expect((await store.hit('kept', 60_000)).count).toBe(12);
    // The newest counters are all there; the oldest are gone and start again from one.
    expect((await store.hit('address-4999', 60_000)).count).toBe(2);
    expect((await store.hit('address-0', 60_000)).count).toBe(1);
    await store.close();
  });
});
