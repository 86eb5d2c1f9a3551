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
