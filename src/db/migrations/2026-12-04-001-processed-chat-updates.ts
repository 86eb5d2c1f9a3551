import type { Kysely } from 'kysely';

// Frozen in time: this migration knows no application code. Timestamps are ISO 8601 UTC text.

/**
 * Chat updates already handled (Telegram update_id, WhatsApp message id, Slack timestamp + body
 * digest), so that a redelivery or a replay is answered with nothing new. In the database, so
 * that every replica sees what any of them handled.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('processed_chat_updates')
    .ifNotExists()
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('update_key', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('processed_chat_updates_pkey', ['channel', 'update_key'])
    .execute();
  await db.schema
    .createIndex('processed_chat_updates_expires_idx')
    .ifNotExists()
    .on('processed_chat_updates')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('processed_chat_updates').ifExists().execute();
}
