import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parse } from 'fast-querystring';
import type { FastifyInstance } from 'fastify';
import { scopeAllows } from '../features/api-keys/api-keys.js';
import type { Principal } from '../features/api-keys/api-keys.service.js';
import type { ValidatorCompiler } from '../features/validation/ajv.js';
import { DomainError } from '../internal/errors.js';
import { domainErrorBody } from './error-handler.js';
import { logRequest, logsQuietSuccesses } from './plugins/request-log.js';
import { apiSecurityHeaders, MAX_QUERY_BYTES } from './plugins/security-headers.js';
import { requestIdOf } from './request-id.js';
import { HEALTH_ANSWER, HEALTH_PATH } from './routes/health/index.js';
import {
  handOverFailure,
  JSON_UTF8,
  LOOKUP_CONFIG,
  LOOKUP_PATH,
  lookupQuerystring,
} from './routes/identities/lookup-identity.js';

/** Query strings as Fastify reads them (app.ts gives its router this same parser). */
export const parseQuerystring = (text: string): Record<string, unknown> => (text.length === 0 ? {} : parse(text));

const LOOKUP_ROUTE = `/v1${LOOKUP_PATH}`;
const LOOKUP_PREFIX = `${LOOKUP_ROUTE}?`;
const HEALTH_BODY = JSON.stringify(HEALTH_ANSWER);

declare module 'fastify' {
  interface FastifyInstance {
    /** The fast path in front of this app's server; undefined with HTTP_FAST_PATH=false. */
    fastPath?: FastPath;
  }
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FastPath {
  /**
   * Answers `req` if it is one of the requests this path knows, and returns true (the answer is
   * written at the end of this turn of the event loop, with the turn's others); otherwise (or
   * when it cannot answer it as Fastify would) returns false at once, having changed nothing,
   * and the caller hands the request to Fastify. `fastify` is the handler for a lookup that
   * turns out, after a read in a promise, to need the error path.
   */
  answer(req: IncomingMessage, res: ServerResponse, fastify: NodeHandler): boolean;
  /** Requests this path has answered (tests check that it did). */
  readonly answered: number;
}

/**
 * The two requests that come thousands of times a second, answered straight from Node's request
 * event: `GET /v1/customers/lookup/identity` with a key this process knows (the answer from the
 * lookup cache, or read at once from SQLite), and `GET /healthz`. Fastify's routing, request and
 * reply objects, per-request child logger and hook chain cost more CPU than the lookup itself:
 * through Fastify a cached lookup took 2.3 times the CPU of Node's bare server answering the
 * same bytes (BENCHMARKS.md, issue 21).
 *
 * Every step is the one Fastify's route takes, from the same functions: the request id, the API
 * security headers, the key check (`knownPrincipal`, the scope the route's config names), the
 * query parser and the route's compiled query schema, the service's `lookupJson`, the metrics
 * and the request log line (a slow request is logged at info with `slow`). Whatever this path
 * cannot answer exactly so goes to Fastify untouched: HEAD, a body, an unknown or missing key, a
 * wrong scope, a query the schema refuses, an error, a rate limit per key
 * (RATE_LIMIT_LOOKUP_PER_KEY), debug logging (every request's line), a closing server. Its
 * answers are written together at the end of each turn of the event loop (see `send`).
 * test/http/fast-path.test.ts sends the same requests both ways and compares the answers.
 */
export function createFastPath(
  app: FastifyInstance,
  options: { compileValidator: ValidatorCompiler; slowMs: number; lookupRateLimited: boolean },
): FastPath {
  const { services } = app;
  const validQuery = options.compileValidator({
    schema: lookupQuerystring,
    httpPart: 'querystring',
    method: 'GET',
    url: LOOKUP_ROUTE,
  });
  // The answer's headers, the same for every answer but the id and the length, filled in for each
  // (writeHead reads them at once and keeps nothing).
  const head = [...apiSecurityHeaders().flat(), 'x-request-id', '', 'content-type', JSON_UTF8, 'content-length', ''];
  const ID = head.length - 5;
  const LENGTH = head.length - 1;
  const observers = {
    lookup200: app.requestObserver('GET', LOOKUP_ROUTE, 200),
    lookup404: app.requestObserver('GET', LOOKUP_ROUTE, 404),
    health200: app.requestObserver('GET', HEALTH_PATH, 200),
  };
  let closing = false;
  let answered = 0;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  /** An answer of this path, waiting for the end of the event loop's turn to be written. */
  interface Pending {
    res: ServerResponse;
    id: string;
    started: number;
    route: string;
    status: 200 | 404;
    body: string;
    principal: Principal | undefined;
  }
  let pending: Pending[] = [];

  /**
   * Queues the answer; the answers of one turn of the event loop are written together once the
   * turn's I/O has been handled (setImmediate). A client waiting on many connections (the
   * runtime, the bench's load generator) is then woken once per turn instead of once per answer,
   * and each wake-up costs our process CPU inside the socket write, far more on a virtual
   * machine (an interrupt to the other core). Measured at a million identities: lookups spread
   * over all keys 12,500 → 17,100 a second (BENCHMARKS.md).
   * An answer waits at most for the rest of its turn: the other requests that arrived with it.
   */
  function send(
    res: ServerResponse,
    id: string,
    started: number,
    route: string,
    status: 200 | 404,
    body: string,
    principal?: Principal,
  ) {
    pending.push({ res, id, started, route, status, body, principal });
    if (pending.length === 1) setImmediate(writePending);
  }

  function writePending() {
    const answers = pending;
    pending = [];
    for (const answer of answers) {
      try {
        write(answer);
      } catch (error) {
        failed(error, answer.res, answer.id, answer.route);
      }
    }
  }

  function write({ res, id, started, route, status, body, principal }: Pending) {
    head[ID] = id;
    head[LENGTH] = String(Buffer.byteLength(body));
    res.writeHead(status, head);
    res.end(body);
    answered++;
    const ms = performance.now() - started;
    (route === HEALTH_PATH ? observers.health200 : status === 200 ? observers.lookup200 : observers.lookup404)(
      ms / 1000,
    );
    if (ms >= options.slowMs) {
      logRequest(app.log.child({ reqId: id }), options.slowMs, {
        method: 'GET',
        route,
        status,
        ms,
        keyId: principal?.keyId,
        quiet: true,
      });
    }
  }

  /** A fault of this path itself: logged, and the connection closed unless the answer was sent whole. */
  function failed(error: unknown, res: ServerResponse, id: string, route = LOOKUP_ROUTE) {
    app.log.error({ err: error, route, reqId: id }, 'the fast path failed');
    if (!res.writableEnded) res.destroy();
  }

  const isNotFound = (error: unknown): error is DomainError =>
    error instanceof DomainError && error.code === 'not_found';
  const notFoundBody = (error: DomainError) => JSON.stringify(domainErrorBody(error));

  function lookup(req: IncomingMessage, res: ServerResponse, started: number, fastify: NodeHandler): boolean {
    if (options.lookupRateLimited) return false;
    const url = req.url as string;
    if (url.length - LOOKUP_PREFIX.length > MAX_QUERY_BYTES) return false;
    const presented = req.headers['x-api-key'];
    if (typeof presented !== 'string' || presented === '') return false;
    let principal: Principal | undefined;
    try {
      principal = services.apiKeys.knownPrincipal(presented);
    } catch {
      return false;
    }
    if (!principal || !scopeAllows(principal.scope, LOOKUP_CONFIG.auth)) return false;
    const query = parseQuerystring(url.slice(LOOKUP_PREFIX.length));
    if (!validQuery(query)) return false;
    const id = requestIdOf(req);
    let answer: string | Promise<string>;
    try {
      answer = services.identities.lookupJson(query as Parameters<typeof services.identities.lookupJson>[0]);
    } catch (error) {
      if (!isNotFound(error)) return false;
      send(res, id, started, LOOKUP_ROUTE, 404, notFoundBody(error), principal);
      return true;
    }
    if (typeof answer === 'string') {
      send(res, id, started, LOOKUP_ROUTE, 200, answer, principal);
      return true;
    }
    // Read in a promise (PostgreSQL): answered when it comes; an error other than "nobody has
    // it" is Fastify's to answer, which reads again (a read changes nothing), unless the database
    // could not answer: reading again would make the client wait twice (a lock, a timeout) for
    // the same 503, so the route is handed the error instead (see lookup-identity.ts).
    answer
      .then(
        (body) => send(res, id, started, LOOKUP_ROUTE, 200, body, principal),
        (error: unknown) => {
          if (isNotFound(error)) return send(res, id, started, LOOKUP_ROUTE, 404, notFoundBody(error), principal);
          if (error instanceof DomainError && error.code === 'unavailable') handOverFailure(req, error);
          fastify(req, res);
        },
      )
      .catch((error: unknown) => failed(error, res, id));
    return true;
  }

  return {
    answer(req, res, fastify) {
      if (closing || req.method !== 'GET') return false;
      const url = req.url;
      if (url === undefined) return false;
      const isLookup = url.startsWith(LOOKUP_PREFIX);
      if (!isLookup && url !== HEALTH_PATH) return false;
      // A body on a GET is Fastify's to read (or refuse); so is every line at debug level.
      if (req.headers['transfer-encoding'] !== undefined) return false;
      const length = req.headers['content-length'];
      if (length !== undefined && length !== '0') return false;
      if (logsQuietSuccesses(app.log)) return false;
      const started = performance.now();
      if (isLookup) return lookup(req, res, started, fastify);
      send(res, requestIdOf(req), started, HEALTH_PATH, 200, HEALTH_BODY);
      return true;
    },
    get answered() {
      return answered;
    },
  };
}
