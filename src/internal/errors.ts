/** Domain errors know nothing about HTTP; `http/error-handler.ts` maps each code to a status. */
export type DomainErrorCode =
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'invalid_claim'
  | 'bad_request'
  | 'unavailable'
  | 'rate_limited'
  | 'gone'
  | 'validation';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'DomainError';
  }
}

/** Too many attempts; `retryAfterSeconds` becomes the Retry-After header. */
export class RateLimitedError extends DomainError {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', detail);
    this.name = 'RateLimitedError';
  }
}

/**
 * The database could not take a change now (another process's lock, a deadlock that outlived its
 * retry); a 503 whose Retry-After is `retryAfterSeconds`.
 */
export class RetryLaterError extends DomainError {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super('unavailable', detail);
    this.name = 'RetryLaterError';
  }
}

/** Who already has a channel identity: a 409 that says with whom, so the operator can go there. */
export interface ConflictWith {
  customer_id: string;
  identity_id: string;
}

export class ConflictError extends DomainError {
  constructor(
    detail: string,
    readonly conflictWith: ConflictWith | undefined,
  ) {
    super('conflict', detail);
    this.name = 'ConflictError';
  }
}

/** A customer that was merged into another: 410 with where it went. */
export class GoneError extends DomainError {
  constructor(
    detail: string,
    readonly mergedInto: string,
  ) {
    super('gone', detail);
    this.name = 'GoneError';
  }
}

export const customerMerged = (mergedInto: string) => new GoneError('Customer was merged', mergedInto);

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const conflict = (detail: string) => new DomainError('conflict', detail);
export const unauthorized = (detail: string) => new DomainError('unauthorized', detail);
export const forbidden = (detail: string) => new DomainError('forbidden', detail);

/** One message for every failed redemption, so that nothing leaks about which codes exist. */
export const INVALID_CLAIM = 'Invalid or expired claim code';
export const invalidClaim = () => new DomainError('invalid_claim', INVALID_CLAIM);

/** The same for link codes: wrong, expired, spent, rejected, or a sender who may not use one. */
export const INVALID_LINK_CODE = 'Invalid or expired link code';
export const invalidLinkCode = () => new DomainError('invalid_claim', INVALID_LINK_CODE);
export const isInvalidLinkCode = (error: unknown) => error instanceof DomainError && error.detail === INVALID_LINK_CODE;

/**
 * A field-level input error found by a rule rather than by the schema (an unparseable phone
 * number, a bad cursor). Rendered as a FastAPI 422 with the given loc and pydantic type.
 */
export class FieldError extends DomainError {
  constructor(
    readonly loc: (string | number)[],
    readonly msg: string,
    readonly type: string = 'value_error',
  ) {
    super('validation', msg);
    this.name = 'FieldError';
  }
}
