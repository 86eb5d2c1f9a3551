import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import { DomainError } from '../../internal/errors.js';
import { isApiPath } from './dashboard.js';

/** Longer query strings are refused: no route of ours needs more, and parsing them costs. */
export const MAX_QUERY_BYTES = 4_096;

/**
 * Scripts, styles and everything else only from our own origin: no inline script can run, so an
 * injected `<script>` in a customer's name does nothing. The dashboard uses only external .js and
 * .css files. `/docs` sets its own policy (swagger-ui's `staticCSP`, which is as strict for
 * scripts) on its own routes, after this one.
 */
export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'connect-src': ["'self'"],
    'font-src': ["'self'", 'data:'],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
  },
};

/**
 * The same policy as one header value, for `/docs`: swagger-ui's own `staticCSP` would allow
 * styles and fonts from any https origin, images from validator.swagger.io, and would add
 * `upgrade-insecure-requests`, which breaks the page on a plain-http deployment.
 */
export const CONTENT_SECURITY_POLICY_HEADER = Object.entries(CONTENT_SECURITY_POLICY.directives)
  .map(([name, values]) => `${name} ${values.join(' ')}`)
  .join('; ');

/**
 * Helmet's headers for our policy, as helmet itself writes them, computed once: @fastify/helmet
 * builds helmet's middleware anew for every request (8 µs of a 67 µs health check, measured).
 */
export function securityHeaders(): [name: string, value: string][] {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  helmet({ contentSecurityPolicy: CONTENT_SECURITY_POLICY })(
    {} as IncomingMessage,
    response as unknown as ServerResponse,
    () => {},
  );
  return [...headers];
}

/** The policy of an answer that is data, not a page: it may load nothing and be framed by nobody. */
const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** Of helmet's headers, those that mean something for data (OWASP's REST Security Cheat Sheet). */
const API_HEADER_NAMES = new Set([
  'cross-origin-resource-policy',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
]);

/**
 * The headers of machine-readable answers (the API, health, metrics, the OpenAPI document):
 * helmet's that apply to data, with a policy that allows nothing. The others (opener and agent
 * cluster isolation, DNS prefetching, IE's download and XSS filters, Flash's cross-domain
 * policies) only mean something for a page a browser renders; leaving them out makes every API
 * answer some 550 bytes shorter.
 */
export function apiSecurityHeaders(): [name: string, value: string][] {
  return securityHeaders()
    .map(([name, value]): [string, string] =>
      name === 'content-security-policy' ? [name, API_CONTENT_SECURITY_POLICY] : [name, value],
    )
    .filter(([name]) => name === 'content-security-policy' || API_HEADER_NAMES.has(name));
}

let apiHeadersOnce: [name: string, value: string][] | undefined;
let pageHeadersOnce: [name: string, value: string][] | undefined;
const apiHeaders = () => (apiHeadersOnce ??= apiSecurityHeaders());
const pageHeaders = () => (pageHeadersOnce ??= securityHeaders());

/**
 * Helmet's headers on every response (a page's or the API's set), the request id, and a limit on
 * query strings: one hook, as every request pays for each hook it goes through. Callback hooks
 * here and in the other plugins that run on every request: an async hook costs a promise and a
 * turn of the microtask queue per request.
 */
async function securityHeadersPlugin(app: FastifyInstance) {
  const page = pageHeaders();
  const api = apiHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    // On the raw response, as helmet does: a route may still set its own (the docs page's policy).
    const raw = reply.raw;
    for (const [name, value] of isApiPath(request.url) ? api : page) raw.setHeader(name, value);
    raw.setHeader('x-request-id', request.id);
    const at = request.url.indexOf('?');
    if (at >= 0 && request.url.length - at - 1 > MAX_QUERY_BYTES) {
      return done(new DomainError('bad_request', `Query string too long: at most ${MAX_QUERY_BYTES} bytes`));
    }
    done();
  });
}

let apiHeaderLinesOnce: string | undefined;
const apiHeaderLines = () =>
  (apiHeaderLinesOnce ??= apiHeaders()
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join(''));

/**
 * Requests Node refuses before Fastify sees them (headers over 16 KiB, garbage, timeouts) get
 * the contract's `{"detail": ...}` too, instead of Fastify's own shape, and the headers of every
 * other API answer (no hook runs for them), with a request id of their own.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request headers too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request timed out']
        : [400, 'Malformed HTTP request'];
  const body = JSON.stringify({ detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${apiHeaderLines()}X-Request-Id: ${randomUUID()}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Errors Fastify's router raises before any hook runs (a path with broken percent-encoding, a
 * failed constraint): the contract's `{"detail": ...}` instead of Fastify's own shape.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const detail = error.code === 'FST_ERR_BAD_URL' ? 'Malformed URL: invalid percent-encoding' : 'Bad request';
  // No hook runs for these requests, so the headers every response carries are set here.
  for (const [name, value] of isApiPath(request.url) ? apiHeaders() : pageHeaders()) reply.header(name, value);
  void reply.code(400).header('x-request-id', request.id).send({ detail });
}

export default fp(securityHeadersPlugin, { name: 'security-headers' });
