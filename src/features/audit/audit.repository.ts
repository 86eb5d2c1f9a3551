import type { Executor } from '../../db/database.js';
import type { NewAuditEventRow } from './audit.table.js';

export async function insertAuditEvent(db: Executor, event: NewAuditEventRow) {
  await db.insertInto('audit_events').values(event).execute();
}

export interface AuditQuery {
  customerId?: string | undefined;
  identityId?: string | undefined;
  /** Exactly this action (`identity.moved`), or every action of a family (`identity.*`). */
  action?: string | undefined;
  /** Exactly this actor: a key's name, or cli / telegram-webhook / slack-webhook / whatsapp-webhook / discord-webhook. */
  actor?: string | undefined;
  limit: number;
  /** Keyset position: events strictly older than (at, id). */
  before?: { at: string; id: string } | undefined;
}

/** Newest first. */
export function listAuditEvents(db: Executor, query: AuditQuery) {
  let q = db.selectFrom('audit_events').selectAll();
  if (query.customerId) q = q.where('customer_id', '=', query.customerId);
  if (query.identityId) q = q.where('identity_id', '=', query.identityId);
  const action = query.action;
  if (action?.endsWith('.*')) {
    // A family: `identity.*` is every action that starts with `identity.`; no LIKE, so `_` in a
    // name means itself on both databases.
    const prefix = action.slice(0, -1);
    q = q.where((eb) => eb(eb.fn('substr', ['action', eb.val(1), eb.val(prefix.length)]), '=', prefix));
  } else if (action) {
    q = q.where('action', '=', action);
  }
  if (query.actor) q = q.where('actor', '=', query.actor);
  const before = query.before;
  if (before) {
    q = q.where((eb) =>
      eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]),
    );
  }
  return q.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
}
