import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseFaultError, mappedDbError } from '../db/errors.js';
import { toFastApiErrors } from '../features/validation/fastapi-errors.js';
import {
  ConflictError,
  customerMerged,
  DomainError,
  type DomainErrorCode,
  FieldError,
  GoneError,
  RateLimitedError,
  RetryLaterError,
} from '../internal/errors.js';

const STATUS: Record<DomainErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  invalid_claim: 400,
  bad_request: 400,
  unavailable: 503,
  rate_limited: 429,
  gone: 410,
  validation: 422,
};

/**
 * A 404 under /customers/{customer_id} for a customer that was merged away is a 410 that says
 * where it went, whatever the route (its identities, an update, a merge into it).
 */
async function mergedAway(error: DomainError, request: FastifyRequest): Promise<GoneError | undefined> {
  if (error.code !== 'not_found') return undefined;
  const customerId = (request.params as { customer_id?: unknown } | undefined)?.customer_id;
  if (typeof customerId !== 'string') return undefined;
  try {
    const into = await request.server.services.merges.mergedInto(customerId);
    return into ? customerMerged(into) : undefined;
  } catch {
    // The 404 stands when the database cannot say more.
    return undefined;
  }
}

/** A domain error's body, `{"detail": …}` (the fast path answers a lookup's 404 with it too). */
export const domainErrorBody = (error: DomainError) => ({ detail: error.detail });

/** The only place where an error becomes an HTTP response, always in FastAPI's shapes. */
export async function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // A database error that reached here unmapped (a call outside mapDbError) still gets its
  // meaning (503 for a lost database, a timeout, a full disk) rather than a 500.
  if (!(error instanceof DomainError)) error = mappedDbError(error) as FastifyError;
  if (error instanceof DatabaseFaultError) {
    // The answer says what happened; the log says the database's own words, for the operator.
    const message = error.kind === 'disk_full' ? "the database's disk is full" : 'a database statement timed out';
    request.log[error.kind === 'disk_full' ? 'error' : 'warn']({ err: error.cause, kind: error.kind }, message);
  }
  if (error instanceof DomainError) error = ((await mergedAway(error, request)) ?? error) as FastifyError;
  if (error instanceof GoneError) {
    return reply.code(410).send({ detail: error.detail, merged_into: error.mergedInto });
  }
  if (error instanceof ConflictError && error.conflictWith) {
    return reply.code(409).send({ detail: error.detail, conflict: error.conflictWith });
  }
  if (error instanceof FieldError) {
    return reply.code(422).send({ detail: [{ type: error.type, loc: error.loc, msg: error.msg }] });
  }
  if (error instanceof DomainError) {
    if (error.code === 'unavailable')
      reply.header('retry-after', error instanceof RetryLaterError ? String(error.retryAfterSeconds) : '5');
    if (error instanceof RateLimitedError)
      reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
    return reply.code(STATUS[error.code]).send(domainErrorBody(error));
  }
  if (error.validation) {
    const context = error.validationContext ?? 'body';
    const data = { body: request.body, querystring: request.query, params: request.params, headers: request.headers }[
      context
    ];
    if (context === 'body' && data === undefined) {
      return reply.code(422).send({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
    }
    return reply.code(422).send({ detail: toFastApiErrors(context, error.validation as never, data) });
  }
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return reply.code(422).send({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415) {
    // Every content type is read as JSON (app.ts); only an empty Content-Type header gets here.
    // A 422 must carry FastAPI's list, or its response schema cannot serialize it (a 500).
    return reply.code(422).send({
      detail: [
        {
          type: 'value_error',
          loc: ['header', 'content-type'],
          msg: 'Value error, send Content-Type: application/json',
        },
      ],
    });
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
    return reply.code(413).send({ detail: 'Request body too large' });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    if (status === 429) return reply.code(429).send({ detail: error.message || 'Too many requests' });
    // Fastify's own client errors (unsupported media type, bad headers): keep the message, not the internals.
    return reply.code(status === 415 ? 422 : status).send({ detail: error.message || 'Bad request' });
  }
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send({ detail: 'Internal Server Error' });
}
