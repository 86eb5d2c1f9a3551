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
