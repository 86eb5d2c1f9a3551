/** What every erased value becomes, in the audit trail and in stored webhook bodies. */
export const ERASED = '[erased]';

/**
 * Keys whose values are the service's own ids and stay after an erasure, so that the trail still
 * says what happened to which record. `external_id` and `instance_id` are the person's or their
 * platform's, not ours: they go.
 */
const KEPT_KEY = /^(id|merge_id|event_id|[a-z_]*customer_id|[a-z_]*identity_id|[a-z_]*identity_ids)$/;

/**
 * A JSON value with every value erased except ids (see KEPT_KEY) and nulls: objects keep their
 * keys, so the shape of what was there stays readable.
 */
export function redact(value: unknown, key?: string): unknown {
  if (value === null || value === undefined) return value;
  if (key !== undefined && KEPT_KEY.test(key)) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(v, k)]));
  }
  return ERASED;
}
