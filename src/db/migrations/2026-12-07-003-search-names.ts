import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this migration knows no application code. Safe to run twice on either database.
//
// customers.name_search: the name folded for search (Unicode NFC, then lowercased by JavaScript),
// written by the service with every name. Search compares it with the needle folded the same way,
// so that SQLite (whose lower() knows only ASCII: "ÉLODIE" stayed "ÉLODIE") and PostgreSQL (whose
// lower() follows its locale) find the same customers. Back-filled here in JavaScript for the
// same reason, by primary key, a batch of rows per UPDATE joined with their folded names.

const BATCH = 2_000;

const fold = (text: string) => text.normalize('NFC').toLowerCase();

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const customers = (await db.introspection.getTables()).find((t) => t.name === 'customers');
  if (customers && !customers.columns.some((c) => c.name === 'name_search')) {
    await db.schema.alterTable('customers').addColumn('name_search', 'text').execute();
  }
  let after = '';
  for (;;) {
    const rows: { id: string; name: string }[] = await db
      .selectFrom('customers')
      .select(['id', 'name'])
      .where('id', '>', after)
      .where('name', 'is not', null)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) return;
    const folded = rows.map((row) => fold(row.name));
    if (postgres) {
      await sql`update customers set name_search = v.s
        from unnest(${rows.map((row) => row.id)}::text[], ${folded}::text[]) as v(id, s)
        where customers.id = v.id`.execute(db);
    } else {
      const values = sql.join(rows.map((row, i) => sql`(${row.id}, ${folded[i]})`));
      await sql`update customers set name_search = v.column2
        from (values ${values}) as v where customers.id = v.column1`.execute(db);
    }
    after = (rows.at(-1) as { id: string }).id;
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('customers').dropColumn('name_search').execute();
}
