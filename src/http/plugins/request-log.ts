import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's 404 is an ordinary answer (the lookup's "nobody has this identity"), logged as a success. */
    notFoundIsAnAnswer?: boolean;
  }
}

export interface RequestLogOptions {
  /** A request that took at least this long is logged whatever it was (LOG_SLOW_REQUEST_MS). */
  slowMs: number;
}

/** pino's level numbers. */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };
const DEBUG = 20;
const INFO = 30;

/**
 * A read that went well: GET or HEAD answered below 400 (or the lookup's 404). These are the
 * runtime's lookups, health checks and metrics scrapes, thousands a second, which /metrics
 * already counts by route and status; their line is written at debug level only.
 */
function isQuietSuccess(request: FastifyRequest, reply: FastifyReply): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const status = reply.statusCode;
  return status < 400 || (status === 404 && request.routeConfig.notFoundIsAnAnswer === true);
}

/** Whether `log` writes the lines of quiet successes (its level is debug or below). */
export function logsQuietSuccesses(log: FastifyBaseLogger): boolean {
  const level = LEVELS[log.level];
  // No level: Fastify's stand-in when logging is off (`logger: false`), which writes nothing.
  return level !== undefined && level <= DEBUG;
}

/** What the line of one answered request says. */
export interface AnsweredRequest {
  method: string;
  /** The route's template, or 'unmatched'. */
  route: string;
  status: number;
  ms: number;
  keyId: string | undefined;
  /** A read that went well (see isQuietSuccess). */
  quiet: boolean;
}

/** The request's line, at the level its kind and time call for (none when `log`'s level is above it). */
export function logRequest(log: FastifyBaseLogger, slowMs: number, answered: AnsweredRequest): void {
  const slow = answered.ms >= slowMs;
  const quiet = !slow && answered.quiet;
  if ((LEVELS[log.level] ?? 0) > (quiet ? DEBUG : INFO)) return;
  log[quiet ? 'debug' : 'info'](
    {
      method: answered.method,
      route: answered.route,
      status: answered.status,
      ms: Math.round(answered.ms * 100) / 100,
      key_id: answered.keyId,
      ...(slow ? { slow: true } : {}),
    },
    'request',
  );
}

/**
 * One line per request: method, route (the template, so that ids and phone numbers stay out of
 * the logs), status and time. Fastify's own two lines per request are turned off in app.ts.
 * At the default level (info): every write, every error and every slow request; a successful,
 * fast read only at debug. A line costs more CPU than a cached lookup itself (issue 21: pino
 * writing one per request took the lookup from 0.4 to 0.3 of Node's bare server).
 */
async function requestLogPlugin(app: FastifyInstance, options: RequestLogOptions) {
  app.addHook('onResponse', (request, reply, done) => {
    logRequest(request.log, options.slowMs, {
      method: request.method,
      route: request.routeConfig.url ?? 'unmatched',
      status: reply.statusCode,
      ms: reply.elapsedTime,
      keyId: request.principal?.keyId,
      quiet: isQuietSuccess(request, reply),
    });
    done();
  });
}

export default fp(requestLogPlugin, { name: 'request-log', dependencies: ['route-config'] });
