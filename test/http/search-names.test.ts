import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../src/cli/data.js';
import { up as searchNames } from '../../src/db/migrations/2026-12-07-003-search-names.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer } from '../helpers/factories.js';

// Search by name finds non-ASCII names in any case on both databases (SQLite's lower() knows
// only ASCII): the name is kept folded beside it, and the needle is folded the same way.

const dir = mkdtempSync(join(tmpdir(), 'ids-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('searching customers by name on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  /** The ids `q` finds among `among`. */
  async function found(q: string, among: string[]): Promise<string[]> {
    const response = await t.app.inject({
      url: `/v1/customers?limit=200&q=${encodeURIComponent(q)}`,
      headers: t.admin,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response
      .json<{ items: { id: string }[] }>()
      .items.map((c) => c.id)
      .filter((id) => among.includes(id));
  }

  it('finds "ÉLODIE Dupont" by élodie, ÉLODIE, Élodie, a decomposed É and dupont', async () => {
    const tag = randomUUID().slice(0, 8);
    const elodie = await createCustomer(t.app, { name: `ÉLODIE Dupont ${tag}` });
    const other = await createCustomer(t.app, { name: `Elodie Martin ${tag}` });
    const among = [elodie.id, other.id];
    for (const q of ['élodie', 'ÉLODIE', 'Élodie', 'E\u0301LODIE', `dupont ${tag}`, 'ÉLODIE DUPONT']) {
      expect(await found(q, among), q).toEqual([elodie.id]);
    }
    expect((await found(tag, among)).sort()).toEqual([...among].sort());
    // Wildcards in the needle are literal.
    expect(await found('%lodie', among)).toEqual([]);
  });

  it('follows the name through a change, a merge and its undo', async () => {
    const tag = randomUUID().slice(0, 8);
    const target = await createCustomer(t.app, { name: null });
    const source = await createCustomer(t.app, { name: `ÅSA Öberg ${tag}` });
    const among = [target.id, source.id];
    expect(await found('åsa', among)).toEqual([source.id]);

    const merged = await t.app.inject({
      method: 'POST',
      url: `/v1/customers/${target.id}/merge`,
      headers: t.admin,
      payload: { source_customer_id: source.id },
    });
    expect(merged.statusCode, merged.body).toBe(200);
    expect(await found('åsa', among)).toEqual([target.id]);

    const undo = await t.app.inject({
      method: 'POST',
      url: `/v1/merges/${merged.json().merge_id}/undo`,
      headers: t.admin,
      payload: {},
    });
    expect(undo.statusCode, undo.body).toBe(200);
    expect(await found('ÅSA', among)).toEqual([source.id]);

    const renamed = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${source.id}`,
      headers: t.admin,
      payload: { name: `ÇA Va ${tag}` },
    });
    expect(renamed.statusCode).toBe(200);
    expect(await found('åsa', among)).toEqual([]);
    expect(await found('ça va', among)).toEqual([source.id]);
  });

  it('finds an imported name, and a name the migration back-filled (run twice)', async () => {
    const tag = randomUUID().slice(0, 8);
    const path = join(dir, `${randomUUID()}.jsonl`);
    const email = `imported-${tag}@example.com`;
    writeFileSync(path, `${JSON.stringify({ email, name: `ŻANETA Łukasiewicz ${tag}` })}\n`);
    expect(await importFile(t.app.services, path, { quiet: true })).toMatchObject({ customers: 1, skipped: 0 });
    const imported = (
      await t.app.inject({ url: `/v1/customers?email=${encodeURIComponent(email)}`, headers: t.admin })
    ).json<{ items: { id: string }[] }>().items[0]?.id as string;
    expect(await found('żaneta', [imported])).toEqual([imported]);

    // Rows as a release before the column left them: more than one batch of the back-fill.
    const db = t.app.services.db.kysely;
    const now = new Date().toISOString();
    const old = Array.from({ length: 1_100 }, (_, i) => ({
      id: randomUUID(),
      email: `old-${tag}-${i}@example.com`,
      name: i % 100 === 0 ? `ÉMILE Zola ${tag} ${i}` : `someone ${i}`,
      metadata: '{}',
      created_at: now,
      updated_at: now,
    }));
    for (let i = 0; i < old.length; i += 100) {
      await db
        .insertInto('customers')
        .values(old.slice(i, i + 100))
        .execute();
    }
    await db.updateTable('customers').set({ name_search: null }).execute();
    await searchNames(db);
    await searchNames(db);
    const emile = old.filter((c) => c.name.startsWith('É')).map((c) => c.id);
    expect((await found(`émile zola ${tag}`, emile)).sort()).toEqual([...emile].sort());
    expect(await found('żaneta', [imported])).toEqual([imported]);
  });
});
