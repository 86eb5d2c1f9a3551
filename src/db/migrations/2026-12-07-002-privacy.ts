import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this migration knows no application code. Safe to run twice on either database.
// Forgetting a person (issue 32):
//
// - suppressions: values of erased people that may not come back, as keyed hashes only (an HMAC
//   of the kind, the channel and the normalized value), never as text.
// - webhook_event_subjects: which customers and identities each webhook event is about, so that
//   an export or an erasure finds a person's events by index instead of reading every payload.
//   Back-filled from the payloads of the events already stored.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('suppressions')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    // 'email' or 'external_id'
    .addColumn('kind', 'text', (c) => c.notNull())
    // The channel of an external id; NULL for an email.
    .addColumn('channel', 'text')
    // Hex HMAC-SHA256 of kind, channel and the normalized value.
    .addColumn('value_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('suppressions_hash_key')
    .ifNotExists()
    .unique()
    .on('suppressions')
    .column('value_hash')
    .execute();

  await db.schema
    .createTable('webhook_event_subjects')
    .ifNotExists()
    .addColumn('event_id', 'text', (c) => c.notNull().references('webhook_events.id').onDelete('cascade'))
    // A customer id or an identity id the event is about.
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_event_subjects_pkey', ['event_id', 'subject_id'])
    .execute();
  await db.schema
    .createIndex('webhook_event_subjects_subject_idx')
    .ifNotExists()
    .on('webhook_event_subjects')
    .column('subject_id')
    .execute();

  const paths = [
    ['customer', 'id'],
    ['identity', 'id'],
    ['identity', 'customer_id'],
    ['source_customer', 'id'],
    ['customer_id'],
    ['from_customer_id'],
    ['to_customer_id'],
    ['source_customer_id'],
    ['target_customer_id'],
  ];
  for (const path of paths) {
    const value = postgres
      ? sql`(payload::jsonb #>> ${sql.lit(`{data,${path.join(',')}}`)})`
      : sql`json_extract(payload, ${sql.lit(`$.data.${path.join('.')}`)})`;
    await sql`INSERT INTO webhook_event_subjects (event_id, subject_id)
      SELECT id, ${value} FROM webhook_events WHERE ${value} IS NOT NULL
      ON CONFLICT DO NOTHING`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_event_subjects').ifExists().execute();
  await db.schema.dropTable('suppressions').ifExists().execute();
}
