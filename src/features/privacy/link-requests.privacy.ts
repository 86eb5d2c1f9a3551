import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { isPostgres } from '../../db/dialect.js';
import type { AuditEventRow } from '../audit/audit.table.js';
import type { LinkRequestRow } from '../link-requests/link-requests.table.js';

// How forgetting reaches link requests (CONTRACT.md part three): the export shows them, the
// erasure deletes them (their chat notices go with them, ON DELETE CASCADE) and finds the audit
// entries about them, the pruner deletes them 30 days after they were decided or expired. Every
// query goes through an index of the migrations 2026-12-07-001 and 2026-12-07-004.

/** Whose link requests: the person's customer and identity ids, and every key of their accounts. */
export interface LinkRequestOwner {
  customerIds: readonly string[];
  identityIds: readonly string[];
  keys: readonly { channel: string; external_id: string }[];
}

type Account = { channel: string; external_id: string };

/** The external ids of these accounts, by channel: one indexed (channel, external_id) query each. */
function byChannel(accounts: readonly Account[]): Map<string, string[]> {
  const groups = new Map<string, Set<string>>();
  for (const { channel, external_id } of accounts) {
    const group = groups.get(channel) ?? new Set<string>();
    group.add(external_id);
    groups.set(channel, group);
  }
  return new Map([...groups].map(([channel, ids]) => [channel, [...ids]]));
}

/**
 * The person's link requests as rows, oldest first: those approved onto their customers, and
 * every request (any status, any scope) of their accounts. A request approved onto an identity
 * of theirs is among the latter: the identity was made from the request's account, and an
 * identity's external id never changes (identity_id has no index of its own for that reason).
 */
export async function linkRequestsOf(db: Executor, owner: LinkRequestOwner): Promise<LinkRequestRow[]> {
  const found = new Map<string, LinkRequestRow>();
  const add = (rows: LinkRequestRow[]) => {
    for (const row of rows) found.set(row.id, row);
  };
  if (owner.customerIds.length > 0) {
    add(await db.selectFrom('link_requests').selectAll().where('customer_id', 'in', owner.customerIds).execute());
  }
  for (const [channel, externalIds] of byChannel(owner.keys)) {
    add(
      await db
        .selectFrom('link_requests')
        .selectAll()
        .where('channel', '=', channel)
        .where('external_id', 'in', externalIds)
        .execute(),
    );
  }
  return [...found.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/** Deletes the person's link requests (as linkRequestsOf finds them) in the erasing transaction; returns how many. */
export async function eraseLinkRequests(db: Executor, owner: LinkRequestOwner): Promise<number> {
  let deleted = 0;
  if (owner.customerIds.length > 0) {
    const result = await db
      .deleteFrom('link_requests')
      .where('customer_id', 'in', owner.customerIds)
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  for (const [channel, externalIds] of byChannel(owner.keys)) {
    const result = await db
      .deleteFrom('link_requests')
      .where('channel', '=', channel)
      .where('external_id', 'in', externalIds)
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}

/** The actions whose entries hold a LinkRequest in `after`, as the partial index lists them. */
const LINK_REQUEST_ACTIONS = sql.raw(
  "('link_request.created', 'link_request.renewed', 'link_request.rejected', 'link_request.approved')",
);

/**
 * The audit entries of link requests of these accounts (any request, even one pruned since), and
 * of these requests. Until a request is approved its entries name no customer or identity, only
 * its account: they are found by the account's external id (the expression index of the
 * migration 2026-12-07-004, written here exactly as there), then kept when the channel matches
 * too, or when they are about one of `requests` (one approved onto the person from an account
 * that is no longer theirs: its entries, not the account's).
 */
export async function linkRequestAuditEntries(
  db: Executor,
  accounts: readonly Account[],
  requests: readonly (Account & { id: string })[],
): Promise<AuditEventRow[]> {
  const externalIds = [...new Set([...accounts, ...requests].map((account) => account.external_id))];
  if (externalIds.length === 0) return [];
  const account = isPostgres(db)
    ? sql.raw(`(changes::jsonb #>> '{after,external_id}')`)
    : sql.raw(`json_extract(changes, '$.after.external_id')`);
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where(sql<boolean>`action IN ${LINK_REQUEST_ACTIONS}`)
    .where(sql`${account}`, 'in', externalIds)
    .execute();
  const keys = new Set(accounts.map((a) => `${a.channel}\n${a.external_id}`));
  const ids = new Set(requests.map((request) => request.id));
  return rows.filter((row) => {
    const { after } = JSON.parse(row.changes) as { after?: { id?: unknown; channel?: unknown; external_id?: unknown } };
    return keys.has(`${String(after?.channel)}\n${String(after?.external_id)}`) || ids.has(String(after?.id));
  });
}

/**
 * Deletes at most `limit` link requests decided or expired before `before` (one batch of the
 * retention pruner; see retention.repository.ts for how replicas share batches); returns how many.
 * Approved and rejected requests count from their decision; pending ones (past their expiry) and
 * those marked expired, from their expiry (a request marked expired has no decided_at).
 */
export async function pruneLinkRequests(db: Executor, before: string, limit: number): Promise<number> {
  const postgres = isPostgres(db);
  // A request is decided after it was created: the bound on created_at lets the (status,
  // created_at) index stop at `before` instead of reading every decided request.
  const decided = await db
    .deleteFrom('link_requests')
    .where('id', 'in', (eb) => {
      const q = eb
        .selectFrom('link_requests')
        .select('id')
        .where('status', 'in', ['approved', 'rejected'])
        .where('created_at', '<', before)
        .where('decided_at', '<', before)
        .limit(limit);
      return postgres ? q.forUpdate().skipLocked() : q;
    })
    .executeTakeFirst();
  const n = Number(decided.numDeletedRows);
  if (n >= limit) return n;
  const expired = await db
    .deleteFrom('link_requests')
    .where('id', 'in', (eb) => {
      const q = eb
        .selectFrom('link_requests')
        .select('id')
        .where('status', 'in', ['pending', 'expired'])
        .where('expires_at', '<', before)
        .limit(limit - n);
      return postgres ? q.forUpdate().skipLocked() : q;
    })
    .executeTakeFirst();
  return n + Number(expired.numDeletedRows);
}
