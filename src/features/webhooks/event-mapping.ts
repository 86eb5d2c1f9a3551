import type { AuditEntry } from '../changes/changes.js';
import type { EventType } from './webhooks.js';

/** An event before it is written: its type and `data` (the resources after the change). */
export interface OutgoingEvent {
  type: EventType;
  data: Record<string, unknown>;
}

type Resource = Record<string, unknown>;

/**
 * The event types an audit action can emit; the outbox asks whether anyone wants one of them
 * before it builds anything. Actions missing here (claim.failed, claim_code.issued, api_key.*,
 * link_request.renewed)
 * emit nothing.
 */
export const TYPES_OF_ACTION: Readonly<Record<string, readonly EventType[]>> = {
  'customer.created': ['customer.created'],
  'customer.updated': ['customer.updated'],
  'customer.deleted': ['customer.deleted'],
  'customer.merged': ['customer.merged'],
  'customer.unmerged': ['customer.unmerged'],
  'customers.imported': ['customer.created', 'identity.linked', 'identity.alias_added'],
  'identity.created': ['identity.linked'],
  'identity.updated': ['identity.updated'],
  'identity.verified': ['identity.verified'],
  'identity.unverified': ['identity.unverified'],
  'identity.deleted': ['identity.unlinked'],
  'identity.moved': ['identity.moved'],
  'identity.alias_added': ['identity.alias_added'],
  'identity.alias_removed': ['identity.alias_removed'],
  'claim.succeeded': ['claim.redeemed', 'identity.verified'],
  'link_request.created': ['link_request.created'],
  'link_request.approved': ['identity.verified', 'link_request.approved'],
  'link_request.rejected': ['link_request.rejected'],
  'customer.erased': ['customer.erased'],
};

const asResource = (value: unknown): Resource =>
  value !== null && typeof value === 'object' ? (value as Resource) : {};

const idOf = (value: unknown) => {
  const id = asResource(value).id;
  return typeof id === 'string' ? id : null;
};

const aliasesOf = (value: unknown): string[] => {
  const aliases = asResource(value).aliases;
  return Array.isArray(aliases) ? aliases.map(String) : [];
};

/** The external ids in one list and not in the other (the alias an alias event is about). */
function aliasDifference(from: unknown, to: unknown): string | null {
  const before = new Set(aliasesOf(from));
  return aliasesOf(to).find((alias) => !before.has(alias)) ?? null;
}

/**
 * The events an audited change emits, in the order a subscriber receives them. The only place
 * that knows how the audit trail's actions become webhook events.
 */
export function eventsOfAudit(entry: AuditEntry): OutgoingEvent[] {
  const before = asResource(entry.before);
  const after = asResource(entry.after);
  switch (entry.action) {
    case 'customer.created':
    case 'customer.updated':
      return [{ type: entry.action, data: { customer: after } }];
    case 'customer.deleted': {
      // The audit keeps how many identities went with it; the event holds the Customer as it was.
      const { identities: _count, ...customer } = before;
      return [{ type: 'customer.deleted', data: { customer } }];
    }
    case 'identity.created':
      return [{ type: 'identity.linked', data: { identity: after } }];
    case 'identity.updated':
    case 'identity.verified':
    case 'identity.unverified':
      return [{ type: entry.action, data: { identity: after } }];
    case 'identity.deleted':
      return [{ type: 'identity.unlinked', data: { identity: before } }];
    case 'identity.moved':
      return [
        {
          type: 'identity.moved',
          data: {
            identity: after,
            from_customer_id: before.customer_id ?? null,
            to_customer_id: after.customer_id ?? entry.customerId ?? null,
          },
        },
      ];
    case 'identity.alias_added':
      return [{ type: 'identity.alias_added', data: { identity: after, alias: aliasDifference(before, after) } }];
    case 'identity.alias_removed':
      return [{ type: 'identity.alias_removed', data: { identity: after, alias: aliasDifference(after, before) } }];
    case 'claim.succeeded': {
      const events: OutgoingEvent[] = [{ type: 'claim.redeemed', data: { identity: after } }];
      // Redeeming a code verifies the identity, unless an operator had verified it meanwhile.
      if (before.verified !== true) events.push({ type: 'identity.verified', data: { identity: after } });
      return events;
    }
    case 'link_request.created':
    case 'link_request.rejected':
      return [{ type: entry.action, data: { link_request: after } }];
    case 'link_request.approved': {
      // The identity the approval made (its identity.linked came from its own entry before this).
      const identity = asResource(entry.eventData?.identity);
      const events: OutgoingEvent[] = [];
      if (identity.verified === true) events.push({ type: 'identity.verified', data: { identity } });
      events.push({ type: 'link_request.approved', data: { link_request: after, identity } });
      return events;
    }
    case 'customer.merged':
      return [
        {
          type: 'customer.merged',
          data: {
            merge_id: after.merge_id ?? null,
            customer: asResource(after.target),
            source_customer: asResource(after.source),
            target_customer_id: idOf(after.target) ?? entry.customerId ?? null,
            source_customer_id: idOf(after.source),
            moved_identity_ids: after.moved_identity_ids ?? [],
          },
        },
      ];
    case 'customer.unmerged':
      return [
        {
          type: 'customer.unmerged',
          data: {
            merge_id: after.merge_id ?? null,
            customer: asResource(after.source),
            source_customer_id: idOf(after.source) ?? entry.customerId ?? null,
            target_customer_id: after.target_customer_id ?? null,
            moved_back_identity_ids: after.moved_back_identity_ids ?? [],
          },
        },
      ];
    case 'customer.erased':
      // Ids only: the person is gone, and receivers learn which of their records to forget.
      return [
        {
          type: 'customer.erased',
          data: {
            customer_id: entry.customerId ?? null,
            identity_ids: after.identity_ids ?? [],
            erased_at: after.erased_at ?? null,
          },
        },
      ];
    case 'customers.imported': {
      // One customer.created per customer and one identity.linked per identity, as if each had
      // been created through the API (see the outbox's notes on why not one batch event). The
      // identity is as it was imported, aliases included, and one identity.alias_added per alias
      // follows it, so that a subscriber to alias events alone learns them too.
      const created = entry.created?.() ?? { customers: [], identities: [] };
      return [
        ...created.customers.map((customer): OutgoingEvent => ({ type: 'customer.created', data: { customer } })),
        ...created.identities.flatMap((identity): OutgoingEvent[] => [
          { type: 'identity.linked', data: { identity } },
          ...aliasesOf(identity).map(
            (alias): OutgoingEvent => ({ type: 'identity.alias_added', data: { identity, alias } }),
          ),
        ]),
      ];
    }
    default:
      return [];
  }
}

const stringsOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/**
 * The customer, identity and link request ids an event's data names: what an export or an
 * erasure looks the event up by (webhook_event_subjects). A link request's own id, because until
 * it is approved it names nobody else (and the link requests of a person are found by account).
 */
export function subjectsOfEvent(data: Record<string, unknown>): string[] {
  const ids = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value.length > 0) ids.add(value);
  };
  add(idOf(data.customer));
  add(idOf(data.identity));
  add(asResource(data.identity).customer_id);
  add(idOf(data.source_customer));
  add(idOf(data.link_request));
  add(asResource(data.link_request).customer_id);
  add(asResource(data.link_request).identity_id);
  for (const key of ['customer_id', 'from_customer_id', 'to_customer_id', 'source_customer_id', 'target_customer_id'])
    add(data[key]);
  for (const key of ['identity_ids', 'moved_identity_ids', 'moved_back_identity_ids']) {
    for (const id of stringsOf(data[key])) add(id);
  }
  return [...ids];
}
