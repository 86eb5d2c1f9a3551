import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * One line per request: method, route (the template, so that ids and phone numbers stay out of
 * the logs), status and time. Fastify's own two lines per request are turned off in app.ts.
 */
async function requestLogPlugin(app: FastifyInstance) {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        key_id: request.principal?.keyId,
      },
      'request',
    );
    done();
  });
}

export default fp(requestLogPlugin, { name: 'request-log' });
