import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Scope, scopeAllows } from '../../features/api-keys/api-keys.js';
import type { Principal } from '../../features/api-keys/api-keys.service.js';
import { forbidden, unauthorized } from '../../internal/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without it (health, docs, webhooks) need no key. */
    auth?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

const MISSING_KEY = 'Missing API key: send it in the X-Api-Key header';
const INVALID_KEY = 'Invalid or revoked API key';

/**
 * Checks X-Api-Key before validation, as FastAPI's dependency does: 401 unknown, 403 wrong scope.
 * A callback hook rather than an async one: a key this process knows is checked at once, without
 * a promise, on every request of the hot path.
 */
async function authPlugin(app: FastifyInstance) {
  app.decorateRequest('principal', undefined);

  function admit(request: FastifyRequest, principal: Principal, needed: Scope): Error | undefined {
    request.principal = principal;
    if (scopeAllows(principal.scope, needed)) return undefined;
    return forbidden(`This API key's scope (${principal.scope}) does not allow this; it needs ${needed}`);
  }

  // An unknown key is counted against the client's address (429 once over the limit); a valid
  // one is admitted whatever its address's failures.
  async function refuse(request: FastifyRequest): Promise<never> {
    throw await app.authThrottle.failure(request, unauthorized(INVALID_KEY));
  }

  app.addHook('onRequest', (request, _reply, done) => {
    const needed = request.routeConfig.auth;
    if (!needed) return done();
    const header = request.headers['x-api-key'];
    const presented = Array.isArray(header) ? header[0] : header;
    if (!presented) return done(app.authThrottle.refusal(request) ?? unauthorized(MISSING_KEY));
    let known: ReturnType<typeof app.services.apiKeys.authenticate>;
    try {
      known = app.services.apiKeys.authenticate(presented);
    } catch (error) {
      return done(error as Error);
    }
    if (!(known instanceof Promise)) return done(admit(request, known, needed));
    known.then((principal) => (principal ? admit(request, principal, needed) : refuse(request))).then(done, done);
  });
}

export default fp(authPlugin, { name: 'auth', dependencies: ['services', 'rate-limit', 'route-config'] });
