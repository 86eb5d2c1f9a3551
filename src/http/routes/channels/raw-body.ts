import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../types.js';

/**
 * Makes every body in this plugin's scope a raw Buffer, whatever its content type, so that a
 * platform's signature can be checked over the exact bytes it signed before anything is parsed.
 * Replaces (in this scope only) the application-wide parser that reads every body as JSON.
 */
export function keepRawBodies(app: App) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

export const rawBodyOf = (body: unknown): Buffer => (Buffer.isBuffer(body) ? body : Buffer.alloc(0));

/**
 * The hook of a channel that is not configured: its route answers as an unknown one (404) before
 * its body is read. (Leaving the route out would let the application's JSON parser answer a form
 * body with a 422 first.) Such routes are also hidden from the OpenAPI document.
 */
export async function answerNotFound(_request: FastifyRequest, reply: FastifyReply) {
  reply.callNotFound();
  return reply;
}
