import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LRUCache } from 'lru-cache';
import type { Config } from '../../config.js';
import { RateLimitedError } from '../../internal/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which per-key budget a route spends: `lookup` (RATE_LIMIT_LOOKUP_PER_KEY); claims are limited in the service. */
    rateLimitGroup?: 'lookup' | 'claim';
  }
}

const TOO_MANY_AUTH_FAILURES = 'Too many failed authentications from this address; try again later';
const TOO_MANY_LOOKUPS = 'Too many lookups with this API key; try again later';

/**
 * HTTP-level throttling over the shared counters (app.services.counters: Redis or memory).
 *
 * - Failed authentications per client address: the auth plugin reports each one through
 *   `app.authFailures`; once an address reaches the limit, it is refused with 429 before its key
 *   is even looked at, until the window ends. The refusal is remembered in this process, so the
 *   hot path costs no round trip to Redis; other replicas learn it at that address's next failure.
 * - Lookups per API key, only when RATE_LIMIT_LOOKUP_PER_KEY is set (it is the hot path).
 * - Claim redemptions are limited in the claims service, so the chat webhooks share the limits.
 *
 * @fastify/rate-limit counts every request; we need to count failures only and to share one
 * store with the service layer, so this is a small hook over the same counters instead.
 */
async function rateLimitPlugin(app: FastifyInstance, options: { limits: Config['rateLimit'] }) {
  const { authFailuresPerIp, lookupPerKey, windowMs } = options.limits;
  const counters = app.services.counters;
  const now = () => app.services.clock.now().getTime();
  /** Addresses refused until the given time. */
  const blocked = new LRUCache<string, number>({ max: 100_000 });

  if (authFailuresPerIp > 0) {
    // Awaited (one round trip, on failures only), so that the request after the limit-th failure
    // is refused for certain, not only once the count happens to come back.
    app.decorate('authFailures', async (request: FastifyRequest) => {
      try {
        const count = await counters.hit(`auth:${request.ip}`, windowMs);
        if (count.count >= authFailuresPerIp) blocked.set(request.ip, now() + count.resetInMs);
      } catch (error) {
        // Fail open: a lost counter must not lock everybody out; the key check still stands.
        request.log.warn({ err: error }, 'could not count a failed authentication');
      }
    });

    // A callback hook: it runs on every authenticated request and decides at once.
    app.addHook('onRequest', (request, _reply, done) => {
      // Nobody blocked (the usual case): the hot path asks neither the address nor the cache.
      if (blocked.size === 0 || !request.routeOptions.config.auth) return done();
      const until = blocked.get(request.ip);
      if (until === undefined) return done();
      const waitMs = until - now();
      if (waitMs <= 0) {
        blocked.delete(request.ip);
        return done();
      }
      done(new RateLimitedError(TOO_MANY_AUTH_FAILURES, Math.ceil(waitMs / 1000)));
    });
  }

  if (lookupPerKey > 0) {
    app.addHook('preHandler', async (request) => {
      const keyId = request.principal?.keyId;
      if (request.routeOptions.config.rateLimitGroup !== 'lookup' || !keyId) return;
      let count: { count: number; resetInMs: number };
      try {
        count = await counters.hit(`lookup:${keyId}`, windowMs);
      } catch (error) {
        request.log.warn({ err: error }, 'could not count a lookup');
        return;
      }
      if (count.count > lookupPerKey) throw new RateLimitedError(TOO_MANY_LOOKUPS, Math.ceil(count.resetInMs / 1000));
    });
  }
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['services'] });
