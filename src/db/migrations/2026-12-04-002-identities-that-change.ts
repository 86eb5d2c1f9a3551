import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this migration knows no application code. Safe to run twice on either database.
//
// - identities.verified_via: how a link was proven ('operator' | 'claim_code' | 'platform'), NULL
//   while unverified; back-filled from the audit trail.
// - identity_keys: every external id and every alias of every identity, one row each, with ONE
//   unique index on (channel, external_id, scope), so that an external id and an alias can never
//   be the same (channel, id, scope), even under concurrent writers. The row of an identity's own
//   external id is kept in step by triggers, so that every writer of `identities` (the API, the
//   import, a later migration that re-normalizes ids) keeps it right without knowing it exists.
// - merges: what undoing a merge needs (the source customer as it was, the identities moved).

const isPostgres = (db: Kysely<any>) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = isPostgres(db);

  const identities = (await db.introspection.getTables()).find((t) => t.name === 'identities');
  if (identities && !identities.columns.some((c) => c.name === 'verified_via')) {
    await db.schema.alterTable('identities').addColumn('verified_via', 'text').execute();
  }
  await sql`UPDATE identities SET verified_via = CASE
      WHEN EXISTS (SELECT 1 FROM audit_events a WHERE a.identity_id = identities.id AND a.action = 'claim.succeeded')
      THEN 'claim_code' ELSE 'operator' END
    WHERE verified_at IS NOT NULL AND verified_via IS NULL`.execute(db);

  await db.schema
    .createTable('identity_keys')
    .ifNotExists()
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    // The identity's instance_id, '' for the unscoped one (a scope of its own).
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('identity_id', 'text', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    // 'external_id' (exactly one per identity) or 'alias'.
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX IF NOT EXISTS identity_keys_key ON identity_keys (channel, external_id, scope)`.execute(
    db,
  );
  await db.schema
    .createIndex('identity_keys_identity_idx')
    .ifNotExists()
    .on('identity_keys')
    .columns(['identity_id', 'kind'])
    .execute();

  if (postgres) {
    await sql`CREATE OR REPLACE FUNCTION identity_keys_sync() RETURNS trigger AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO identity_keys (channel, external_id, scope, identity_id, kind, created_at)
          VALUES (NEW.channel, NEW.external_id, COALESCE(NEW.instance_id, ''), NEW.id, 'external_id', NEW.created_at);
        ELSE
          UPDATE identity_keys SET channel = NEW.channel, scope = COALESCE(NEW.instance_id, '')
            WHERE identity_id = NEW.id;
          UPDATE identity_keys SET external_id = NEW.external_id
            WHERE identity_id = NEW.id AND kind = 'external_id';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`.execute(db);
    await sql`DROP TRIGGER IF EXISTS identities_keys_insert ON identities`.execute(db);
    await sql`CREATE TRIGGER identities_keys_insert AFTER INSERT ON identities
      FOR EACH ROW EXECUTE FUNCTION identity_keys_sync()`.execute(db);
    await sql`DROP TRIGGER IF EXISTS identities_keys_update ON identities`.execute(db);
    await sql`CREATE TRIGGER identities_keys_update AFTER UPDATE OF channel, external_id, instance_id ON identities
      FOR EACH ROW EXECUTE FUNCTION identity_keys_sync()`.execute(db);
  } else {
    await sql`CREATE TRIGGER IF NOT EXISTS identities_keys_insert AFTER INSERT ON identities BEGIN
        INSERT INTO identity_keys (channel, external_id, scope, identity_id, kind, created_at)
        VALUES (NEW.channel, NEW.external_id, COALESCE(NEW.instance_id, ''), NEW.id, 'external_id', NEW.created_at);
      END`.execute(db);
    await sql`CREATE TRIGGER IF NOT EXISTS identities_keys_update
      AFTER UPDATE OF channel, external_id, instance_id ON identities BEGIN
        UPDATE identity_keys SET channel = NEW.channel, scope = COALESCE(NEW.instance_id, '')
          WHERE identity_id = NEW.id;
        UPDATE identity_keys SET external_id = NEW.external_id
          WHERE identity_id = NEW.id AND kind = 'external_id';
      END`.execute(db);
  }
  // Identities that existed before the triggers.
  await sql`INSERT INTO identity_keys (channel, external_id, scope, identity_id, kind, created_at)
    SELECT i.channel, i.external_id, COALESCE(i.instance_id, ''), i.id, 'external_id', i.created_at
    FROM identities i
    WHERE NOT EXISTS (SELECT 1 FROM identity_keys k WHERE k.identity_id = i.id AND k.kind = 'external_id')`.execute(db);

  await db.schema
    .createTable('merges')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('target_customer_id', 'text', (c) => c.notNull())
    .addColumn('source_customer_id', 'text', (c) => c.notNull())
    // JSON: the source customer's row as it was (id, email, name, metadata, created_at, updated_at).
    .addColumn('source', 'text', (c) => c.notNull())
    // JSON: the target's name and metadata before the merge, and its updated_at after it.
    .addColumn('target_before', 'text', (c) => c.notNull())
    // JSON array of the identity ids that moved.
    .addColumn('moved_identity_ids', 'text', (c) => c.notNull())
    .addColumn('merged_at', 'text', (c) => c.notNull())
    .addColumn('undone_at', 'text')
    .execute();
  await db.schema
    .createIndex('merges_target_idx')
    .ifNotExists()
    .on('merges')
    .columns(['target_customer_id', 'merged_at'])
    .execute();
  await db.schema
    .createIndex('merges_source_idx')
    .ifNotExists()
    .on('merges')
    .columns(['source_customer_id', 'merged_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('merges').ifExists().execute();
  if (isPostgres(db)) {
    await sql`DROP TRIGGER IF EXISTS identities_keys_insert ON identities`.execute(db);
    await sql`DROP TRIGGER IF EXISTS identities_keys_update ON identities`.execute(db);
    await sql`DROP FUNCTION IF EXISTS identity_keys_sync()`.execute(db);
  } else {
    await sql`DROP TRIGGER IF EXISTS identities_keys_insert`.execute(db);
    await sql`DROP TRIGGER IF EXISTS identities_keys_update`.execute(db);
  }
  await db.schema.dropTable('identity_keys').ifExists().execute();
  await db.schema.alterTable('identities').dropColumn('verified_via').execute();
}
