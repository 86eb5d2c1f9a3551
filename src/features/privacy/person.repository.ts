import type { Executor } from '../../db/database.js';
import { MAX_MERGE_CHAIN } from '../merges/merges.js';

// The rows that hold one person, each found through an index: an export or an erasure reads a
// few hundred rows of a person in a database of millions, never a table.

/**
 * The customers merged (and not unmerged) into these, and into those, and so on: the same person
 * under ids that now lead to them. Their rows are gone; their data lives on in the merge records.
 */
export async function customersMergedInto(db: Executor, customerIds: readonly string[]): Promise<string[]> {
  const seen = new Set(customerIds);
  let frontier = [...customerIds];
  // A chain is at most MAX_MERGE_CHAIN long; a tree of merges is as deep as its longest chain.
  for (let depth = 0; depth < MAX_MERGE_CHAIN * 4 && frontier.length > 0; depth++) {
    const rows = await db
      .selectFrom('merges')
      .select('source_customer_id')
      .where('target_customer_id', 'in', frontier)
      .where('undone_at', 'is', null)
      .execute();
    frontier = rows.map((row) => row.source_customer_id).filter((id) => !seen.has(id));
    for (const id of frontier) seen.add(id);
  }
  return [...seen].filter((id) => !customerIds.includes(id));
}

/** Every merge record in which any of these customers took part, on either side. */
export function mergesInvolving(db: Executor, customerIds: readonly string[]) {
  return db
    .selectFrom('merges')
    .selectAll()
    .where((eb) => eb.or([eb('target_customer_id', 'in', customerIds), eb('source_customer_id', 'in', customerIds)]))
    .orderBy('merged_at')
    .orderBy('id')
    .execute();
}

/** Every key (external ids and aliases) of these identities. */
export function keysOfIdentities(db: Executor, identityIds: readonly string[]) {
  if (identityIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('identity_keys')
    .select(['channel', 'external_id', 'kind', 'identity_id'])
    .where('identity_id', 'in', identityIds)
    .execute();
}

/**
 * The audit entries about these customers or identities, oldest first; plus, by `mergeIds`, the
 * `customer.merged` entries recorded on another customer that hold this person as the source.
 */
export async function auditEntriesAbout(
  db: Executor,
  about: { customerIds: readonly string[]; identityIds: readonly string[]; mergeTargets: readonly string[] },
) {
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('customer_id', 'in', about.customerIds),
        ...(about.identityIds.length > 0 ? [eb('identity_id', 'in', about.identityIds)] : []),
        ...(about.mergeTargets.length > 0
          ? [eb.and([eb('customer_id', 'in', about.mergeTargets), eb('action', '=', 'customer.merged')])]
          : []),
      ]),
    )
    .orderBy('at')
    .orderBy('id')
    .execute();
  return rows;
}

/** The webhook events about these customers or identities (webhook_event_subjects), oldest first. */
export function webhookEventsAbout(db: Executor, subjectIds: readonly string[]) {
  return db
    .selectFrom('webhook_events as e')
    .selectAll('e')
    .where('e.id', 'in', (eb) =>
      eb.selectFrom('webhook_event_subjects as s').select('s.event_id').where('s.subject_id', 'in', subjectIds),
    )
    .orderBy('e.created_at')
    .orderBy('e.id')
    .execute();
}

export function deliveriesOfEvents(db: Executor, eventIds: readonly string[]) {
  if (eventIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('webhook_deliveries')
    .select(['event_id', 'subscription_id', 'status', 'attempts', 'next_attempt_at', 'created_at', 'updated_at'])
    .where('event_id', 'in', eventIds)
    .orderBy('seq')
    .execute();
}

/** Rewrites one audit entry's before/after (its redacted form). */
export function updateAuditChanges(db: Executor, id: string, changes: string) {
  return db.updateTable('audit_events').set({ changes }).where('id', '=', id).execute();
}

/** Drops the deliveries of these events that have not succeeded (pending or given up). */
export async function dropUndelivered(db: Executor, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db
    .deleteFrom('webhook_deliveries')
    .where('event_id', 'in', eventIds)
    .where('status', '!=', 'delivered')
    .execute();
}

/** Of these events, those some receiver has got. */
export async function deliveredEventIds(db: Executor, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('event_id')
    .distinct()
    .where('event_id', 'in', eventIds)
    .where('status', '=', 'delivered')
    .execute();
  return new Set(rows.map((row) => row.event_id));
}

export async function deleteWebhookEvents(db: Executor, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db.deleteFrom('webhook_events').where('id', 'in', eventIds).execute();
}

export function updateWebhookPayload(db: Executor, id: string, payload: string) {
  return db.updateTable('webhook_events').set({ payload }).where('id', '=', id).execute();
}

export async function deleteMerges(db: Executor, mergeIds: readonly string[]): Promise<void> {
  if (mergeIds.length === 0) return;
  await db.deleteFrom('merges').where('id', 'in', mergeIds).execute();
}
