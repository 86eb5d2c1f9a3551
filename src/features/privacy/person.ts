import type { Executor } from '../../db/database.js';
import type { AuditEventRow } from '../audit/audit.table.js';
import type { CustomerRow } from '../customers/customers.table.js';
import type { IdentityRow } from '../identities/identities.table.js';
import type { LinkRequestRow } from '../link-requests/link-requests.table.js';
import type { MergeRow } from '../merges/merges.table.js';
import type { WebhookEventTable } from '../webhooks/webhooks.table.js';
import { type LinkRequestOwner, linkRequestAuditEntries, linkRequestsOf } from './link-requests.privacy.js';
import {
  auditEntriesAbout,
  customersMergedInto,
  keysOfIdentities,
  mergesInvolving,
  webhookEventsAbout,
} from './person.repository.js';

/** Everything the service holds about one person, as rows (what export and erasure work on). */
export interface Person {
  customer: CustomerRow;
  /** The customer's id and those of the customers merged into it (the same person). */
  customerIds: string[];
  identities: IdentityRow[];
  keys: { channel: string; external_id: string; kind: string; identity_id: string }[];
  /** Requests approved onto the person, and every request of their accounts. */
  linkRequests: LinkRequestRow[];
  merges: MergeRow[];
  audit: AuditEventRow[];
  webhookEvents: WebhookEventTable[];
  /** Emails of the customers merged into this one, from their merge records. */
  mergedEmails: string[];
}

export const ownerOf = (person: Person): LinkRequestOwner => ({
  customerIds: person.customerIds,
  identityIds: person.identities.map((identity) => identity.id),
  keys: person.keys,
});

/**
 * Reads a person: the customer (and those merged into it), its identities and their keys, the
 * merge records either side, their link requests, the audit entries about any of them, and the
 * webhook events about them. Every read goes through an index (see the migrations
 * 2026-12-07-002-privacy and 2026-12-07-004-link-request-privacy).
 */
export async function readPerson(db: Executor, customer: CustomerRow, identities: IdentityRow[]): Promise<Person> {
  const customerIds = [customer.id, ...(await customersMergedInto(db, [customer.id]))];
  const identityIds = identities.map((identity) => identity.id);
  const merges = await mergesInvolving(db, customerIds);
  const mine = new Set(customerIds);
  // A merge of this person into someone since unmerged: the other side's `customer.merged` entry
  // holds this person as the merge's source.
  const mergedAsSource = merges.filter((m) => mine.has(m.source_customer_id) && !mine.has(m.target_customer_id));
  const mergeIds = new Set(mergedAsSource.map((m) => m.id));
  const ids = new Set([...customerIds, ...identityIds]);
  const keys = await keysOfIdentities(db, identityIds);
  const linkRequests = await linkRequestsOf(db, { customerIds, identityIds, keys });
  const linkRequestIds = linkRequests.map((request) => request.id);
  const linked = (
    await auditEntriesAbout(db, {
      customerIds,
      identityIds,
      mergeTargets: [...new Set(mergedAsSource.map((m) => m.target_customer_id))],
    })
  ).filter(
    (row) =>
      (row.customer_id !== null && ids.has(row.customer_id)) ||
      (row.identity_id !== null && ids.has(row.identity_id)) ||
      mergeIds.has(String((JSON.parse(row.changes) as { after?: { merge_id?: unknown } }).after?.merge_id)),
  );
  // Until a request is approved, its entries name only its account.
  const asked = await linkRequestAuditEntries(db, keys, linkRequests);
  const seen = new Set(linked.map((row) => row.id));
  const audit = [...linked, ...asked.filter((row) => !seen.has(row.id))].sort(
    (a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id),
  );
  const mergedEmails = merges
    .filter((m) => mine.has(m.source_customer_id) && m.source_customer_id !== customer.id)
    .map((m) => (JSON.parse(m.source) as { email?: unknown }).email)
    .filter((email): email is string => typeof email === 'string');
  return {
    customer,
    customerIds,
    identities,
    keys,
    linkRequests,
    merges,
    audit,
    webhookEvents: await webhookEventsAbout(db, [...ids, ...linkRequestIds]),
    mergedEmails,
  };
}
