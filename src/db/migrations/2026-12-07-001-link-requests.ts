import { type Kysely, sql } from 'kysely';

// Frozen in time: this migration knows no application code. Safe to run twice on either database.
//
// - link_requests: a stranger's account asking to be linked (CONTRACT.md part three). Its code is
//   kept only as an HMAC, and only while the request can still be decided. At most one pending
//   request per (channel, external_id, scope): a partial unique index, which both databases
//   enforce under concurrent writers. An expired request keeps status 'pending' until the next
//   request for its account marks it 'expired' (readers derive `expired` from expires_at).
// - chat_notices: the outbox of messages to a person on a chat channel (a decision on the request
//   they made from that chat), written in the decision's transaction and delivered by the chat
//   channels at least once; one per (request, kind), so never enqueued twice.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('link_requests')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text')
    // The instance_id, '' when unscoped: the scope identity_keys uses.
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    // pending, approved, rejected or expired
    .addColumn('status', 'text', (c) => c.notNull())
    // HMAC-SHA256 of the code, hex; NULL once the request is decided or expired.
    .addColumn('code_hmac', 'text')
    // 'api' or 'chat': where the request was made.
    .addColumn('origin', 'text', (c) => c.notNull())
    // JSON: where a chat reply goes (for origin 'chat'), as the chat channel wrote it.
    .addColumn('reply_to', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .addColumn('customer_id', 'text')
    .addColumn('identity_id', 'text')
    .execute();
  await sql`CREATE UNIQUE INDEX IF NOT EXISTS link_requests_pending_key
    ON link_requests (channel, external_id, scope) WHERE status = 'pending'`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS link_requests_code_idx
    ON link_requests (code_hmac) WHERE code_hmac IS NOT NULL`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS link_requests_created_idx ON link_requests (created_at, id)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS link_requests_status_idx
    ON link_requests (status, created_at, id)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS link_requests_channel_idx
    ON link_requests (channel, created_at, id)`.execute(db);
  // The pending count (LINK_REQUESTS_MAX_PENDING) and, later, the pruning of old requests.
  await sql`CREATE INDEX IF NOT EXISTS link_requests_expiry_idx ON link_requests (status, expires_at)`.execute(db);
  // Erasure: the requests of a customer's accounts, and of the customers they were linked to.
  await sql`CREATE INDEX IF NOT EXISTS link_requests_account_idx ON link_requests (channel, external_id)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS link_requests_customer_idx ON link_requests (customer_id)`.execute(db);

  await db.schema
    .createTable('chat_notices')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('link_request_id', 'text', (c) => c.notNull().references('link_requests.id').onDelete('cascade'))
    // 'link_request.approved' or 'link_request.rejected'
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    // JSON, copied from the request's reply_to.
    .addColumn('reply_to', 'text', (c) => c.notNull())
    // pending, sent or failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    // A sender's lease: nobody else attempts this notice before then.
    .addColumn('locked_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX IF NOT EXISTS chat_notices_request_kind ON chat_notices (link_request_id, kind)`.execute(
    db,
  );
  await sql`CREATE INDEX IF NOT EXISTS chat_notices_due_idx ON chat_notices (status, next_attempt_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('chat_notices').ifExists().execute();
  await db.schema.dropTable('link_requests').ifExists().execute();
}
