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

/** Checks X-Api-Key before validation, as FastAPI's dependency does: 401 unknown, 403 wrong scope. */
async function authPlugin(app: FastifyInstance) {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const needed = request.routeOptions.config.auth;
    if (!needed) return;
    const header = request.headers['x-api-key'];
    const presented = Array.isArray(header) ? header[0] : header;
    if (!presented) throw unauthorized('Missing API key: send it in the X-Api-Key header');
    const principal = await app.services.apiKeys.authenticate(presented);
    if (!principal) {
      await app.authFailures?.(request);
      throw unauthorized('Invalid or revoked API key');
    }
    request.principal = principal;
    if (!scopeAllows(principal.scope, needed)) {
      throw forbidden(`This API key's scope (${principal.scope}) does not allow this; it needs ${needed}`);
    }
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the rate-limit plugin to count a failed authentication against the client's address. */
    authFailures?: (request: FastifyRequest) => Promise<void>;
  }
}

export default fp(authPlugin, { name: 'auth', dependencies: ['services'] });
