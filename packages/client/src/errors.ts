import type { ConflictWith, ValidationIssue } from './types.js';

/** Any answer but a success; `detail` is the body's `detail` (a message, or a 422's list). */
export class IdentityServiceError extends Error {
  override name = 'IdentityServiceError';
  constructor(
    /** The HTTP status; 0 when no answer came (network error, timeout). */
    readonly status: number,
    readonly detail: unknown,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? (typeof detail === 'string' ? detail : `Identity service answered ${status}`), options);
  }
}

/** 401 (missing or unknown key) or 403 (the key's scope does not allow it). */
export class AuthError extends IdentityServiceError {
  override name = 'AuthError';
}

/** 404: the customer or identity does not exist (or is not under that customer). */
export class NotFoundError extends IdentityServiceError {
  override name = 'NotFoundError';
}

/** 409: a taken email, an identity linked already, a code for a verified identity. */
export class ConflictError extends IdentityServiceError {
  override name = 'ConflictError';
  constructor(
    status: number,
    detail: unknown,
    /** When a channel identity is linked already: who has it. */
    readonly conflict?: ConflictWith | undefined,
  ) {
    super(status, detail);
  }
}

/** 410: the customer was merged into another; `mergedInto` is where its identities are now. */
export class GoneError extends IdentityServiceError {
  override name = 'GoneError';
  constructor(
    status: number,
    detail: unknown,
    readonly mergedInto: string | undefined,
  ) {
    super(status, detail);
  }
}

/** 422: the input broke a rule; `issues` is FastAPI's `detail` list. */
export class ValidationError extends IdentityServiceError {
  override name = 'ValidationError';
  readonly issues: ValidationIssue[];
  constructor(status: number, detail: unknown) {
    const issues = Array.isArray(detail) ? (detail as ValidationIssue[]) : [];
    const first = issues[0];
    super(status, detail, first ? `${first.loc.join('.')}: ${first.msg}` : 'Validation error');
    this.issues = issues;
  }
}

/** 429: too many attempts; wait `retryAfterSeconds` (from Retry-After) before trying again. */
export class RateLimitedError extends IdentityServiceError {
  override name = 'RateLimitedError';
  constructor(
    status: number,
    detail: unknown,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(status, detail);
  }
}

/** The claim's 400: wrong, expired, spent or foreign code (the service never says which). */
export class InvalidClaimError extends IdentityServiceError {
  override name = 'InvalidClaimError';
}

/** A link code's 400: wrong, expired, spent or rejected code, or a sender who may not use one. */
export class InvalidLinkCodeError extends IdentityServiceError {
  override name = 'InvalidLinkCodeError';
}

/** No answer: the service could not be reached, or did not answer within `timeoutMs`. */
export class TransportError extends IdentityServiceError {
  override name = 'TransportError';
}

/** The typed error for a response that was not a success. */
export function errorFor(status: number, detail: unknown, headers: Headers, body?: unknown): IdentityServiceError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  switch (status) {
    case 401:
    case 403:
      return new AuthError(status, detail);
    case 404:
      return new NotFoundError(status, detail);
    case 409:
      return new ConflictError(status, detail, (fields.conflict as ConflictWith | undefined) ?? undefined);
    case 410:
      return new GoneError(status, detail, typeof fields.merged_into === 'string' ? fields.merged_into : undefined);
    case 422:
      return new ValidationError(status, detail);
    case 429:
      return new RateLimitedError(status, detail, retryAfter(headers.get('retry-after')));
    default:
      return new IdentityServiceError(status, detail);
  }
}

function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
