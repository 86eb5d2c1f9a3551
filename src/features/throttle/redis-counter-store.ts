import { Redis } from 'ioredis';
import type { Count, CounterStore } from './counter-store.js';

/** One round trip: count, open the window on the first hit, report the time left. */
const HIT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

/**
 * Only while the window lives: a refund must not create a key without expiry. A counter back at
 * zero is deleted, so that attempts for ever new keys (random senders) leave nothing behind.
 */
const REFUND = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 1 then
  redis.call('DECR', KEYS[1])
elseif count == 1 then
  redis.call('DEL', KEYS[1])
end
return 0`;

type ThrottleRedis = Redis & {
  throttleHit(key: string, windowMs: number): Promise<[number, number]>;
  throttleRefund(key: string): Promise<number>;
};

/**
 * Counters in Redis, shared by every replica. A Redis that does not answer fails the call within
 * `commandTimeout` instead of queueing it forever; the callers decide whether to fail open or closed.
 */
export function createRedisCounterStore(
  url: string,
  options: { prefix: string; onError: (error: Error) => void },
): CounterStore {
  const redis = new Redis(url, {
    keyPrefix: options.prefix,
    maxRetriesPerRequest: 1,
    commandTimeout: 2_000,
    connectTimeout: 2_000,
    // Keep reconnecting in the background, but never more slowly than every two seconds.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  }) as ThrottleRedis;
  redis.on('error', options.onError);
  redis.defineCommand('throttleHit', { numberOfKeys: 1, lua: HIT });
  redis.defineCommand('throttleRefund', { numberOfKeys: 1, lua: REFUND });

  return {
    kind: 'redis',
    async hit(key: string, windowMs: number): Promise<Count> {
      const [count, ttl] = await redis.throttleHit(key, Math.max(1, Math.round(windowMs)));
      return { count: Number(count), resetInMs: Number(ttl) };
    },
    async refund(key: string) {
      await redis.throttleRefund(key);
    },
    async close() {
      redis.disconnect();
    },
  };
}
