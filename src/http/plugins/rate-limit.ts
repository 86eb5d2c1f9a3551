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
 * - Failed authentications per client address (a wrong API key, a wrong Telegram webhook secret):
 *   each is reported through `app.authThrottle.failure`; once an address reaches the limit, its
 *   failures are answered with 429 instead of 401 until the window ends. A request that carries a
 *   valid key (or secret) is never refused for its address's failures: otherwise anybody who can
 *   send from (or, behind a proxy, claim) the runtime's address could lock the runtime out. The
 *   refusal is remembered in this process, so a refused failure costs no round trip to Redis;
 *   other replicas learn it at that address's next failure.
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
  /** Addresses whose failures are refused until the given time. */
  const blocked = new LRUCache<string, number>({ max: 100_000 });

  function refusal(request: FastifyRequest): RateLimitedError | undefined {
    // Nobody blocked (the usual case): the address is not even asked for.
    if (blocked.size === 0) return undefined;
    const until = blocked.get(request.ip);
    if (until === undefined) return undefined;
    const waitMs = until - now();
    if (waitMs <= 0) {
      blocked.delete(request.ip);
      return undefined;
    }
    return new RateLimitedError(TOO_MANY_AUTH_FAILURES, Math.ceil(waitMs / 1000));
  }

  app.decorate('authThrottle', {
    refusal: (request: FastifyRequest) => (authFailuresPerIp > 0 ? refusal(request) : undefined),
    async failure(request: FastifyRequest, error: Error): Promise<Error> {
      if (authFailuresPerIp <= 0) return error;
      const refused = refusal(request);
      // Already over the limit: refused without counting (no round trip), until the window ends.
      if (refused) return refused;
      // Awaited (one round trip, on failures only), so that the failure after the limit-th is
      // refused for certain, not only once the count happens to come back.
      try {
        const count = await counters.hit(`auth:${request.ip}`, windowMs);
        if (count.count >= authFailuresPerIp) blocked.set(request.ip, now() + count.resetInMs);
      } catch (err) {
        // Fail open: a lost counter must not lock everybody out; the key check still stands.
        request.log.warn({ err }, 'could not count a failed authentication');
      }
      return error;
    },
  } satisfies AuthThrottle);

  if (lookupPerKey > 0) {
    app.addHook('preHandler', async (request) => {
      const keyId = request.principal?.keyId;
      if (request.routeConfig.rateLimitGroup !== 'lookup' || !keyId) return;
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

/** Failed authentications per client address, for every check of a secret (API keys, webhook secrets). */
export interface AuthThrottle {
  /** The 429 an address over its limit gets for a failure, or undefined; at once, without a promise. */
  refusal(request: FastifyRequest): RateLimitedError | undefined;
  /** Counts a failed authentication against the client's address; resolves to the error to answer (`error`, or 429). */
  failure(request: FastifyRequest, error: Error): Promise<Error>;
}

declare module 'fastify' {
  interface FastifyInstance {
    authThrottle: AuthThrottle;
  }
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['services', 'route-config'] });
