import type { AuditEvent, Json } from '../api/types.js';

/** What each audit action is called on screen; an action not listed here shows as its own name. */
export const ACTIONS: Record<string, string> = {
  'customer.created': 'Customer created',
  'customer.updated': 'Customer updated',
  'customer.deleted': 'Customer deleted',
  'customer.merged': 'Customers merged',
  'customer.unmerged': 'Merge undone',
  'customer.erased': 'Customer erased',
  'customers.imported': 'Customers imported',
  'identity.created': 'Identity linked',
  'identity.updated': 'Identity updated',
  'identity.verified': 'Identity verified',
  'identity.unverified': 'Identity unverified',
  'identity.deleted': 'Identity unlinked',
  'identity.moved': 'Identity moved',
  'identity.alias_added': 'Alias added',
  'identity.alias_removed': 'Alias removed',
  'claim_code.issued': 'Claim code issued',
  'claim.succeeded': 'Code redeemed',
  'claim.failed': 'Failed claim attempt',
  'link_request.created': 'Link requested',
  'link_request.renewed': 'Link request renewed',
  'link_request.approved': 'Link request approved',
  'link_request.rejected': 'Link request rejected',
  'api_key.created': 'API key created',
  'api_key.revoked': 'API key revoked',
  'webhook.created': 'Webhook created',
  'webhook.updated': 'Webhook updated',
  'webhook.deleted': 'Webhook deleted',
  'webhook.secret_rotated': 'Webhook secret rotated',
};

/** The families the audit page filters by (`identity.*` on the API). */
export const ACTION_FAMILIES: { value: string; label: string }[] = [
  { value: 'customer.*', label: 'Any customer change' },
  { value: 'identity.*', label: 'Any identity change' },
  { value: 'claim.*', label: 'Any claim attempt' },
  { value: 'link_request.*', label: 'Any link request' },
  { value: 'api_key.*', label: 'Any API key change' },
  { value: 'webhook.*', label: 'Any webhook change' },
];

export function actionLabel(action: string): string {
  return ACTIONS[action] ?? action;
}

export const asObject = (value: Json | undefined): Record<string, Json> =>
  value && typeof value === 'object' && !Array.isArray(value) ? value : {};

const show = (value: Json | undefined) => (value === undefined ? '—' : JSON.stringify(value));

/** What changed, field by field (timestamps left out: the event has its own). */
export function changes(event: AuditEvent): string[] {
  const before = asObject(event.before);
  const after = asObject(event.after);
  const count = (value: Json | undefined) => (Array.isArray(value) ? value.length : 0);
  const emailOf = (value: Json | undefined) => String(asObject(value).email ?? '?');
  if (event.action === 'customer.merged') {
    const moved = count(after.moved_identity_ids);
    return [
      `${emailOf(after.source)} merged into ${emailOf(after.target)}`,
      `${moved} ${moved === 1 ? 'identity' : 'identities'} moved`,
    ];
  }
  if (event.action === 'customer.unmerged') {
    const back = count(after.moved_back_identity_ids);
    return [`${emailOf(after.source)} is back`, `${back} ${back === 1 ? 'identity' : 'identities'} moved back`];
  }
  if (event.action.startsWith('link_request.')) {
    // The request's account, and what the decision made of it (its ids are in "Before and after").
    const subject = asObject(event.after ?? event.before);
    const account = `${subject.channel} ${subject.external_id}`;
    const name = subject.display_name ? ` (${subject.display_name})` : '';
    const moved = before.status !== undefined && before.status !== after.status;
    return [`${account}${name}`, ...(moved ? [`status: ${show(before.status)} → ${show(after.status)}`] : [])];
  }
  if (!event.before || !event.after) {
    const subject = asObject(event.after ?? event.before);
    const name = subject.channel
      ? `${subject.channel} ${subject.external_id}`
      : (subject.email ?? subject.url ?? (subject.scope ? `${subject.name} (${subject.scope})` : null));
    return name ? [String(name)] : [];
  }
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => !key.endsWith('_at') || key === 'verified_at')
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => `${key}: ${show(before[key])} → ${show(after[key])}`);
}
