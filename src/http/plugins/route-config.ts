import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

type RouteConfig = FastifyRequest['routeOptions']['config'];

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * `routeOptions.config`, read once: Fastify's `routeOptions` getter builds a new object of a
     * dozen fields on every read, and the hooks of every request (auth, rate limit, metrics,
     * request log) each need the config. Its `url` is the route's template (unmatched: undefined).
     */
    readonly routeConfig: RouteConfig;
  }
}

const kRouteConfig = Symbol('routeConfig');

async function routeConfigPlugin(app: FastifyInstance) {
  app.decorateRequest(kRouteConfig, undefined);
  app.decorateRequest('routeConfig', {
    getter(this: FastifyRequest & { [kRouteConfig]?: RouteConfig }) {
      this[kRouteConfig] ??= this.routeOptions.config;
      return this[kRouteConfig];
    },
  });
}

export default fp(routeConfigPlugin, { name: 'route-config' });
