import type { ValidationItem } from './types.js';

/** A response that was not a success, with the contract's `{"detail": ...}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | ValidationItem[],
    readonly body: unknown,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(typeof detail === 'string' ? detail : (detail[0]?.msg ?? `HTTP ${status}`));
    this.name = 'ApiError';
  }

  get validation(): ValidationItem[] {
    return Array.isArray(this.detail) ? this.detail : [];
  }
}

/** The server could not be reached at all (offline, restarted, proxy down). */
export class NetworkError extends Error {
  constructor() {
    super('Could not reach the server. Check your connection and try again.');
    this.name = 'NetworkError';
  }
}

/**
 * A 422's messages by field, from `loc` (`["body", "external_id"]` → `external_id`); nested
 * keys stay with their field. Messages for other locations are left to `messageOf`.
 */
export function fieldErrors(error: unknown, location: 'body' | 'query' = 'body'): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError) || error.status !== 422) return out;
  for (const item of error.validation) {
    const [where, field] = item.loc;
    if (where !== location || typeof field !== 'string') continue;
    out[field] ??= item.msg;
  }
  return out;
}

/** One sentence for a person, whatever went wrong. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) {
      const wait = error.retryAfterSeconds ? ` Try again in ${error.retryAfterSeconds} s.` : '';
      return `${typeof error.detail === 'string' ? error.detail : 'Too many requests.'}${wait}`;
    }
    if (typeof error.detail === 'string') return error.detail;
    return error.validation
      .map((item) => `${item.loc.filter((part) => part !== 'body' && part !== 'query').join('.')}: ${item.msg}`)
      .join('; ');
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

/** A 409's `conflict` (whose identity is in the way), when the server says. */
export function conflictOf(error: unknown): { customer_id: string; identity_id: string } | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const body = error.body as { conflict?: { customer_id?: unknown; identity_id?: unknown } } | null;
  const conflict = body?.conflict;
  return typeof conflict?.customer_id === 'string' && typeof conflict.identity_id === 'string'
    ? { customer_id: conflict.customer_id, identity_id: conflict.identity_id }
    : null;
}

/** Where a 410 says a merged customer went. */
export function mergedInto(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 410) return null;
  const target = (error.body as { merged_into?: unknown } | null)?.merged_into;
  return typeof target === 'string' ? target : null;
}
