import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A request id the client may choose (X-Request-Id), if it is short and plain. */
const GIVEN_ID = /^[\w.-]{1,64}$/;

/** The request's id: the client's X-Request-Id when it is short and plain, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && GIVEN_ID.test(given) ? given : randomUUID();
}
