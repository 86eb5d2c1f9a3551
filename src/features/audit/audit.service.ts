import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { decodeCursor, toPage } from '../shared/cursor.js';
import { listAuditEvents } from './audit.repository.js';
import type { AuditEventRow } from './audit.table.js';

export interface AuditEvent {
  id: string;
  at: string;
  actor_key_id: string | null;
  actor: string;
  action: string;
  customer_id: string | null;
  identity_id: string | null;
  before: unknown;
  after: unknown;
  /** 'platform' when a chat platform's signed message made the change; absent otherwise. */
  source?: string;
}

export const toAuditEvent = (row: AuditEventRow): AuditEvent => {
  const changes = JSON.parse(row.changes) as { before: unknown; after: unknown; source?: string };
  return {
    id: row.id,
    at: row.at,
    actor_key_id: row.actor_key_id,
    actor: row.actor,
    action: row.action,
    customer_id: row.customer_id,
    identity_id: row.identity_id,
    before: changes.before,
    after: changes.after,
    ...(changes.source ? { source: changes.source } : {}),
  };
};

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService(deps: { db: Kysely<Database> }) {
  return {
    async list(query: {
      customer_id?: string | undefined;
      identity_id?: string | undefined;
      action?: string | undefined;
      actor?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      const rows = await mapDbError(() =>
        listAuditEvents(deps.db, {
          customerId: query.customer_id,
          identityId: query.identity_id,
          action: query.action,
          actor: query.actor,
          limit: query.limit + 1,
          before: decodeCursor(query.cursor),
        }),
      );
      return toPage(rows, query.limit, toAuditEvent, (row) => ({ at: row.at, id: row.id }));
    },
  };
}
