import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this migration knows no application code. Safe to run twice on either database.
// Forgetting reaches link requests:
//
// - audit_events_link_request_account_idx: the audit entries of link requests (created, renewed,
//   rejected, approved) name no customer or identity until a request is approved, only the
//   account in their `after`; an erasure finds the entries about the person's accounts by this
//   index (an expression on the JSON, partial to these actions: the rest of the trail costs it
//   nothing). The query must write the same expression and the same action list.
// - webhook_event_subjects: link_request.* events are about their link request too (its id), so
//   that an erasure finds the events of a request that was never approved. Back-filled from the
//   bodies of the events already stored.

const ACTIONS = "('link_request.created', 'link_request.renewed', 'link_request.rejected', 'link_request.approved')";

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  const account = postgres
    ? sql.raw(`(changes::jsonb #>> '{after,external_id}')`)
    : sql.raw(`json_extract(changes, '$.after.external_id')`);
  await sql`CREATE INDEX IF NOT EXISTS audit_events_link_request_account_idx
    ON audit_events (${account}) WHERE action IN ${sql.raw(ACTIONS)}`.execute(db);

  const requestId = postgres
    ? sql.raw(`(payload::jsonb #>> '{data,link_request,id}')`)
    : sql.raw(`json_extract(payload, '$.data.link_request.id')`);
  await sql`INSERT INTO webhook_event_subjects (event_id, subject_id)
    SELECT id, ${requestId} FROM webhook_events
    WHERE type IN ('link_request.created', 'link_request.approved', 'link_request.rejected')
      AND ${requestId} IS NOT NULL
    ON CONFLICT DO NOTHING`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS audit_events_link_request_account_idx`.execute(db);
}
