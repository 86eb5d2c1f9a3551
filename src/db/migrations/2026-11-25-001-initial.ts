import { type Kysely, sql } from 'kysely';

// Frozen in time: this migration knows no application code. Timestamps are ISO 8601 UTC text
// (the same bytes on both databases, and ordered as text); JSON is text too.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('settings')
    .ifNotExists()
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('customers')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('customers_email_key').ifNotExists().unique().on('customers').column('email').execute();
  await db.schema
    .createIndex('customers_created_idx')
    .ifNotExists()
    .on('customers')
    .columns(['created_at', 'id'])
    .execute();

  await db.schema
    .createTable('identities')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text')
    .addColumn('display_name', 'text')
    .addColumn('role_override', 'text')
    .addColumn('verified_at', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // The unscoped identity (instance_id NULL) is a scope of its own: NULLs are distinct in a
  // unique index, so the index is on COALESCE(instance_id, ''). Both databases support it, and
  // its leading columns serve the reverse lookup.
  await sql`CREATE UNIQUE INDEX IF NOT EXISTS identities_identity_key
    ON identities (channel, external_id, (COALESCE(instance_id, '')))`.execute(db);
  await db.schema
    .createIndex('identities_customer_idx')
    .ifNotExists()
    .on('identities')
    .columns(['customer_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('claim_codes')
    .ifNotExists()
    .addColumn('identity_id', 'text', (c) => c.primaryKey().references('identities.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('api_keys_hash_key').ifNotExists().unique().on('api_keys').column('key_hash').execute();

  await db.schema
    .createTable('audit_events')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_key_id', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('identity_id', 'text')
    .addColumn('changes', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_at_idx').ifNotExists().on('audit_events').columns(['at', 'id']).execute();
  await db.schema
    .createIndex('audit_events_customer_idx')
    .ifNotExists()
    .on('audit_events')
    .columns(['customer_id', 'at'])
    .execute();
  await db.schema
    .createIndex('audit_events_identity_idx')
    .ifNotExists()
    .on('audit_events')
    .columns(['identity_id', 'at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_events', 'api_keys', 'claim_codes', 'identities', 'customers', 'settings']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
