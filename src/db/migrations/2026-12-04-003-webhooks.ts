import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this migration knows no application code. Signed webhooks (issue 20): the
// subscriptions, the outbox of events written in the same transaction as each change, one
// delivery per (event, subscription) in the order the events were written, and the attempts.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('webhook_subscriptions')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    // A JSON array of event types, or ["*"].
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    // Kept as given: it keys the HMAC of every delivery.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhook_events')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    // The body as sent, byte for byte, on every attempt.
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_events_created_idx')
    .ifNotExists()
    .on('webhook_events')
    .column('created_at')
    .execute();

  // seq orders a subscription's deliveries as their events were written: an integer primary key
  // on SQLite (the rowid), a bigserial on PostgreSQL.
  await db.schema
    .createTable('webhook_deliveries')
    .ifNotExists()
    .addColumn('seq', postgres ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull().references('webhook_subscriptions.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull().references('webhook_events.id').onDelete('cascade'))
    // pending, delivered or failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    // A sender's lease: nobody else attempts this delivery before then.
    .addColumn('locked_until', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_head_idx')
    .ifNotExists()
    .on('webhook_deliveries')
    .columns(['subscription_id', 'status', 'seq'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_status_idx')
    .ifNotExists()
    .on('webhook_deliveries')
    .columns(['status', 'updated_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_event_idx')
    .ifNotExists()
    .on('webhook_deliveries')
    .column('event_id')
    .execute();

  await db.schema
    .createTable('webhook_attempts')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull().references('webhook_subscriptions.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_attempts_subscription_idx')
    .ifNotExists()
    .on('webhook_attempts')
    .columns(['subscription_id', 'at'])
    .execute();
  await sql`CREATE INDEX IF NOT EXISTS webhook_attempts_at_idx ON webhook_attempts (at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['webhook_attempts', 'webhook_deliveries', 'webhook_events', 'webhook_subscriptions']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
