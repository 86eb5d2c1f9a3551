import type { AuditEvent, Json } from '../api/types.js';

/** What each audit action is called on screen; an action not listed here shows as its own name. */
export const ACTIONS: Record<string, string> = {
  'customer.created': 'Customer created',
  'customer.updated': 'Customer updated',
  'customer.deleted': 'Customer deleted',
  'customer.merged': 'Customers merged',
  'customer.unmerged': 'Merge undone',
  'customer.erased': 'Customer erased',
  'suppression.lifted': 'Suppression lifted',
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
  { value: 'suppression.*', label: 'Any suppression change' },
];

export function actionLabel(action: string): string {
  return ACTIONS[action] ?? action;
}

export const asObject = (value: Json | undefined): Record<string, Json> =>
  value && typeof value === 'object' && !Array.isArray(value) ? value : {};

/** What an erasure leaves in place of every value but ids (CONTRACT.md, "Forgetting a person"). */
export const ERASED = '[erased]';

/** A piece of a "what changed" line: text, or the mark of a value an erasure took away. */
export type Piece = string | { erased: true };
export type Line = Piece[];
const ERASED_PIECE: Piece = { erased: true };

/** Whether an entry was about an erased person (its values replaced, its ids kept). */
export function isErased(event: AuditEvent): boolean {
  return JSON.stringify([event.before, event.after]).includes(JSON.stringify(ERASED));
}

/** A value as JSON; an erased one as the mark, not as the quoted string "[erased]". */
const show = (value: Json | undefined): Piece =>
  value === undefined ? '—' : value === ERASED ? ERASED_PIECE : JSON.stringify(value);
/** A value as plain text (an email, a channel), or the mark. */
const text = (value: Json | undefined): Piece => (value === ERASED ? ERASED_PIECE : String(value ?? '?'));

/** A chat account; once erased, one mark for the pair rather than one for each half. */
function account(subject: Record<string, Json>): Line {
  if (subject.channel === ERASED && subject.external_id === ERASED) return ['account ', ERASED_PIECE];
  return [text(subject.channel), ' ', text(subject.external_id)];
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The erasure's counts, said in words (they hold no personal data). */
function erasure(after: Record<string, Json>): Line[] {
  const counts = asObject(after.counts);
  const n = (key: string) => (typeof counts[key] === 'number' ? counts[key] : 0);
  const erased = [
    plural(n('identities'), 'identity', 'identities'),
    ...(n('customers') > 1 ? [plural(n('customers') - 1, 'merged customer', 'merged customers')] : []),
    ...(n('link_requests') ? [plural(n('link_requests'), 'link request', 'link requests')] : []),
  ];
  const lines: Line[] = [[`Erased with ${erased.join(', ')}`]];
  lines.push([`${plural(n('audit_entries'), 'audit entry', 'audit entries')} redacted`]);
  if (n('suppressed')) lines.push([`${plural(n('suppressed'), 'value', 'values')} suppressed`]);
  if (typeof after.reason === 'string' && after.reason) lines.push(['Reason: ', text(after.reason)]);
  return lines;
}

/** What changed, field by field (timestamps left out: the event has its own). */
export function changes(event: AuditEvent): Line[] {
  const before = asObject(event.before);
  const after = asObject(event.after);
  const count = (value: Json | undefined) => (Array.isArray(value) ? value.length : 0);
  const emailOf = (value: Json | undefined) => text(asObject(value).email);
  if (event.action === 'customer.erased') return erasure(after);
  if (event.action === 'suppression.lifted') {
    return [[after.kind === 'email' ? 'An email' : `A ${String(after.channel)} account`, ' can be added again']];
  }
  if (event.action === 'customer.merged') {
    const moved = count(after.moved_identity_ids);
    return [
      [emailOf(after.source), ' merged into ', emailOf(after.target)],
      [plural(moved, 'identity', 'identities'), ' moved'],
    ];
  }
  if (event.action === 'customer.unmerged') {
    const back = count(after.moved_back_identity_ids);
    return [
      [emailOf(after.source), ' is back'],
      [plural(back, 'identity', 'identities'), ' moved back'],
    ];
  }
  if (event.action.startsWith('link_request.')) {
    // The request's account, and what the decision made of it (its ids are in "Before and after").
    const subject = asObject(event.after ?? event.before);
    const name: Line = subject.display_name ? [' (', text(subject.display_name), ')'] : [];
    const moved = before.status !== undefined && before.status !== after.status;
    return [
      [...account(subject), ...name],
      ...(moved ? [['status: ', show(before.status), ' → ', show(after.status)]] : []),
    ];
  }
  if (!event.before || !event.after) {
    const subject = asObject(event.after ?? event.before);
    if (subject.channel) return [account(subject)];
    const name = subject.email ?? subject.url ?? (subject.scope ? `${subject.name} (${subject.scope})` : null);
    return name ? [[text(name)]] : [];
  }
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => !key.endsWith('_at') || key === 'verified_at')
    .flatMap((key): Line[] => {
      // Erased on both sides: whether it changed is gone with the values, so it is shown once.
      if (before[key] === ERASED && after[key] === ERASED) return [[`${key}: `, ERASED_PIECE]];
      if (JSON.stringify(before[key]) === JSON.stringify(after[key])) return [];
      return [[`${key}: `, show(before[key]), ' → ', show(after[key])]];
    });
}

/** A line as plain text, for keys and labels. */
export const lineText = (line: Line): string =>
  line.map((piece) => (typeof piece === 'string' ? piece : 'erased')).join('');
