import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** The most of an unwanted body read (and thrown away) after an early answer. */
export const LINGER_MAX_BYTES = 4 * 1024 * 1024;
/** How long, at most, an unwanted body is read after an early answer. */
export const LINGER_TOTAL_MS = 10_000;
/** How long the client may pause while its unwanted body is read. */
export const LINGER_IDLE_MS = 5_000;

/**
 * Reads and discards the rest of a request body nobody wants, within bounds, then leaves the
 * connection as it is: drained, it serves the next request; over a bound, it is destroyed.
 */
function discardRest(raw: IncomingMessage) {
  const socket = raw.socket;
  // Injected requests (tests) have no real connection to keep or to reset.
  if (!(socket instanceof Socket) || socket.destroyed) return;
  let read = 0;
  const stop = () => {
    cleanup();
    socket.destroy();
  };
  const total = setTimeout(stop, LINGER_TOTAL_MS);
  const idle = setTimeout(stop, LINGER_IDLE_MS);
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > LINGER_MAX_BYTES) return stop();
    idle.refresh();
  };
  function cleanup() {
    clearTimeout(total);
    clearTimeout(idle);
    raw.off('data', onData);
    raw.off('end', cleanup);
    socket.off('close', cleanup);
  }
  raw.on('data', onData);
  raw.once('end', cleanup);
  socket.once('close', cleanup);
}

/**
 * An answer given before the body was read (413 for a body over the limit, 401 before a body is
 * parsed) must reach the client. Closing at once, as Fastify asks for a body over the limit,
 * destroys a socket with unread bytes in it: the kernel answers with a reset, and a client still
 * sending its body gets EPIPE or ECONNRESET instead of its 413 (one time in five over a network).
 * So, as nginx's lingering close does, the rest of the body is read and thrown away, up to
 * LINGER_MAX_BYTES and LINGER_TOTAL_MS (LINGER_IDLE_MS between pieces); the client reads its
 * answer, and the connection, drained, may even serve its next request.
 */
async function lingeringClosePlugin(app: FastifyInstance) {
  app.addHook('onSend', (request, reply, payload, done) => {
    // Successful answers have read their body; only an early refusal can leave one unread.
    if (reply.statusCode < 400 || request.raw.complete) return done(null, payload);
    // Fastify asks to close at once after a body over the limit; the rest is read instead.
    if (reply.statusCode === 413) reply.removeHeader('connection');
    discardRest(request.raw);
    done(null, payload);
  });
}

export default fp(lingeringClosePlugin, { name: 'lingering-close' });
