import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Services } from '../../services.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

/** Makes the services reachable from routes; closes them with the server when it owns them. */
async function servicesPlugin(app: FastifyInstance, options: { services: Services; owned: boolean }) {
  app.decorate('services', options.services);
  if (options.owned) app.addHook('onClose', async () => options.services.close());
}

export default fp(servicesPlugin, { name: 'services' });
