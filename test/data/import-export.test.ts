import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTo, importFile } from '../../src/cli/data.js';
import { cliActor } from '../../src/features/changes/changes.js';
import { createUnitOfWork, type UnitOfWork } from '../../src/features/changes/unit-of-work.js';
import { prepareRecords } from '../../src/features/data/data-record.js';
import { createImportService } from '../../src/features/data/import.service.js';
import { jsonLines } from '../../src/features/data/source-reader.js';
import { isoNow } from '../../src/internal/clock.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS, postgres, postgresUrl } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

const dir = mkdtempSync(join(tmpdir(), 'ids-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]) {
  const path = join(dir, `${randomUUID()}-${name}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function exportText(app: FastifyInstance): Promise<string> {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  await exportTo(app.services, sink);
  return text;
}

async function lookup(app: FastifyInstance, channel: string, externalId: string, instanceId?: string) {
  const instance = instanceId ? `&instance_id=${instanceId}` : '';
  const response = await app.inject({
    url: `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}${instance}`,
    headers: { 'x-api-key': 'test-admin-key-0123456789' },
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

async function customerByEmail(t: TestApp, email: string) {
  const response = await t.app.inject({ url: `/v1/customers?email=${encodeURIComponent(email)}`, headers: t.admin });
  return response.json<{ items: { id: string; email: string }[] }>().items[0];
}

describe.each(DIALECTS)('import and export on $name', (dialect) => {
  let source: TestApp;
  let target: TestApp;
  beforeAll(async () => {
    [source, target] = await Promise.all([buildTestApp(dialect), buildTestApp(dialect)]);
  });
  afterAll(async () => {
    await source.close();
    await target.close();
  });

  it('export → import into a fresh database → export gives the same file, ids and timestamps included', async () => {
    const instance = randomUUID();
    const steve = await createCustomer(source.app, {
      email: 'Steve@Acme.com',
      name: 'Steve',
      metadata: { plan: 'pro', tags: ['a', 'b'], nested: { deep: true } },
    });
    const tg = await createIdentity(source.app, steve.id, { channel: 'telegram', external_id: '12345' });
    const wa = await createIdentity(source.app, steve.id, {
      channel: 'whatsapp',
      external_id: '+1 (415) 555-2671',
      display_name: 'Steve W',
      metadata: { source: 'import-test' },
    });
    await source.app.inject({
      method: 'POST',
      url: `/v1/customers/${steve.id}/identities/${wa.id}/aliases`,
      headers: source.admin,
      payload: { external_id: 'US.13491208655302741918' },
    });
    await createIdentity(source.app, steve.id, { channel: 'slack', external_id: 'u024be7lh', instance_id: instance });
    await source.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${steve.id}/identities/${tg.id}`,
      headers: source.admin,
      payload: { verified: true, role_override: 'owner' },
    });
    await createCustomer(source.app, { email: 'lonely@example.com', name: null });

    const first = await exportText(source.app);
    const lines = first.trim().split('\n');
    expect(lines).toHaveLength(2);
    const exported = JSON.parse(lines[0] as string);
    expect(exported).toMatchObject({ id: steve.id, email: 'steve@acme.com', metadata: { plan: 'pro' } });
    expect(exported.identities).toHaveLength(3);
    expect(exported.identities[0]).toMatchObject({
      id: tg.id,
      verified: true,
      verified_via: 'operator',
      role_override: 'owner',
    });
    expect(exported.identities[1]).toMatchObject({
      id: wa.id,
      verified_via: null,
      aliases: ['US.13491208655302741918'],
    });

    const summary = await importFile(target.app.services, file('export.jsonl', lines), { quiet: true });
    expect(summary).toMatchObject({ customers: 2, identities: 3, skipped: 0 });
    const second = await exportText(target.app);
    expect(second).toBe(first);

    // Imported identities answer the same normalized lookups as those created over HTTP.
    expect(await lookup(target.app, 'Telegram', ' 12345')).toMatchObject({
      status: 200,
      body: { customer_id: steve.id, identity_id: tg.id, verified: true, customer_email: 'steve@acme.com' },
    });
    expect((await lookup(target.app, 'whatsapp', '+14155552671')).status).toBe(200);
    expect(await lookup(target.app, 'whatsapp', 'us.13491208655302741918')).toMatchObject({
      status: 200,
      body: { identity_id: wa.id, external_id: '+14155552671' },
    });
    expect((await lookup(target.app, 'slack', 'U024BE7LH', instance)).status).toBe(200);
    expect((await lookup(target.app, 'slack', 'U024BE7LH')).status).toBe(404);

    // One audit event for the batch, not one per row.
    const audit = await target.app.inject({ url: '/v1/audit?limit=200', headers: target.admin });
    const events = audit.json<{ items: { action: string; actor: string; after: Record<string, unknown> }[] }>().items;
    expect(events.map((e) => e.action)).toEqual(['customers.imported']);
    expect(events[0]).toMatchObject({ actor: 'cli', after: { customers: 2, identities: 3, lines: [1, 2] } });
  });

  it('carries verified_via, and refuses an alias that someone has already or a via without verification', async () => {
    const owner = await createCustomer(target.app, { email: 'has-alias@example.com' });
    const linked = await createIdentity(target.app, owner.id, { channel: 'whatsapp', external_id: '+16505558001' });
    await target.app.inject({
      method: 'POST',
      url: `/v1/customers/${owner.id}/identities/${linked.id}/aliases`,
      headers: target.admin,
      payload: { external_id: 'GB.998877' },
    });
    const line = (email: string, identities: unknown[]) => JSON.stringify({ email, identities });
    const path = file('via.jsonl', [
      line('via-claim@example.com', [
        { channel: 'telegram', external_id: '880001', verified: true, verified_via: 'claim_code', aliases: [] },
      ]), // 1
      line('alias-thief@example.com', [{ channel: 'whatsapp', external_id: '+16505558002', aliases: ['gb.998877'] }]), // 2
      line('id-thief@example.com', [{ channel: 'whatsapp', external_id: 'GB.998877' }]), // 3
      line('via-only@example.com', [{ channel: 'telegram', external_id: '880004', verified_via: 'platform' }]), // 4
      line('bad-alias@example.com', [{ channel: 'whatsapp', external_id: '+16505558005', aliases: ['nope'] }]), // 5
    ]);
    const summary = await importFile(target.app.services, path, { quiet: true });
    expect(summary).toMatchObject({ customers: 1, skipped: 4 });
    expect(summary.badLines.map((b) => b.line).sort()).toEqual([2, 3, 4, 5]);
    expect(summary.badLines.find((b) => b.line === 2)?.message).toMatch(/already linked/);
    expect(summary.badLines.find((b) => b.line === 4)?.message).toMatch(/verified_via/);
    expect(await lookup(target.app, 'telegram', '880001')).toMatchObject({
      body: { verified: true, verified_via: 'claim_code' },
    });
    expect((await lookup(target.app, 'whatsapp', 'GB.998877')).body.identity_id).toBe(linked.id);
  });

  it('reports bad lines with their numbers, skips them whole, and imports every other line', async () => {
    const taken = await createCustomer(target.app, { email: 'owner-of-777@example.com' });
    await createIdentity(target.app, taken.id, { channel: 'telegram', external_id: '777' });
    const line = (email: string, identities: unknown[] = []) => JSON.stringify({ email, identities });
    const path = file('bad.jsonl', [
      line('good1@example.com', [{ channel: 'telegram', external_id: '1001' }]), // 1
      '{"email": "broken@example.com", ', // 2: not JSON
      JSON.stringify({ name: 'no email' }), // 3: email missing
      line('good2@example.com', [{ channel: 'email', external_id: 'Good2@Example.com' }]), // 4
      line('half@example.com', [
        { channel: 'telegram', external_id: '1005' },
        { channel: 'whatsapp', external_id: 'not a phone' },
      ]), // 5: one bad identity: the whole customer is skipped
      line('GOOD1@example.com'), // 6: same email as line 1
      line('thief@example.com', [{ channel: 'telegram', external_id: '777' }]), // 7: linked already
      '', // 8: blank, ignored
      line('good3@example.com', [
        { channel: 'telegram', external_id: '1009' },
        { channel: 'telegram', external_id: '1009' },
      ]), // 9: the same identity twice in one line
      line('good4@example.com', [{ channel: 'telegram', external_id: '1010', instance_id: 'nope' }]), // 10
      line('good5@example.com', [{ channel: 'telegram', external_id: '1011' }]), // 11
    ]);
    const reported: number[] = [];
    const summary = await importFile(target.app.services, path, { quiet: true, batchSize: 2 });
    for (const bad of summary.badLines) reported.push(bad.line);

    expect(reported.sort((a, b) => a - b)).toEqual([2, 3, 5, 6, 7, 9, 10]);
    expect(summary).toMatchObject({ customers: 3, identities: 3, skipped: 7 });
    const message = (n: number) => summary.badLines.find((b) => b.line === n)?.message;
    expect(message(2)).toMatch(/not valid JSON/);
    expect(message(3)).toMatch(/^email: Field required/);
    expect(message(5)).toMatch(/^identities\.1\.external_id: .*phone number/);
    expect(message(6)).toBe('a customer with this email already exists');
    expect(message(7)).toBe('identities.0: this telegram identity is already linked to a customer');
    expect(message(9)).toMatch(/identities\.1: the same channel identity as identities\.0/);
    expect(message(10)).toMatch(/^identities\.0\.instance_id: Input should be a valid UUID/);

    expect((await lookup(target.app, 'telegram', '1001')).status).toBe(200);
    expect((await lookup(target.app, 'email', 'good2@example.com')).status).toBe(200);
    expect((await lookup(target.app, 'telegram', '1011')).status).toBe(200);
    // Not half-written: the valid identity of line 5 and its customer are not there.
    expect((await lookup(target.app, 'telegram', '1005')).status).toBe(404);
    expect(await customerByEmail(target, 'half@example.com')).toBeUndefined();
    expect((await lookup(target.app, 'telegram', '777')).body.customer_id).toBe(taken.id);
  });

  it('reports a line holding U+0000 (which PostgreSQL cannot store) by its number and imports the rest', async () => {
    const path = file('nul.jsonl', [
      JSON.stringify({ email: 'nul-ok@example.com', identities: [{ channel: 'telegram', external_id: '5001' }] }),
      JSON.stringify({ email: 'nul-bad@example.com', metadata: { note: 'a\u0000b' } }),
      JSON.stringify({ email: 'nul-ok2@example.com', identities: [{ channel: 'telegram', external_id: '5003' }] }),
    ]);
    const summary = await importFile(target.app.services, path, { quiet: true });
    expect(summary).toMatchObject({ customers: 2, identities: 2, skipped: 1 });
    expect(summary.badLines).toEqual([
      { line: 2, lastLine: 2, message: 'metadata.note: Value error, must not contain the NUL character (U+0000)' },
    ]);
    expect(await customerByEmail(target, 'nul-bad@example.com')).toBeUndefined();
    expect((await lookup(target.app, 'telegram', '5003')).status).toBe(200);
  });

  it('a batch that loses a race to another writer is retried line by line, so only the clashing line is lost', async () => {
    let calls = 0;
    const realUow = createUnitOfWork({
      db: target.app.services.db.kysely,
      clock: target.app.services.clock,
      hub: target.app.services.hub,
      origin: randomUUID(),
    });
    // The batch goes in whole first and is refused (line 4 repeats line 1's email); its lines are
    // then checked, and another writer links telegram 2002 between those checks and the transaction.
    const racingUow: UnitOfWork = async (actor, work) => {
      if (++calls === 2) {
        const other = await createCustomer(target.app, { email: 'racer@example.com' });
        await createIdentity(target.app, other.id, { channel: 'telegram', external_id: '2002' });
      }
      return realUow(actor, work);
    };
    const importer = createImportService({
      db: target.app.services.db.kysely,
      uow: racingUow,
    });
    const text = ['2001', '2002', '2003'].map((id) =>
      JSON.stringify({ email: `race-${id}@example.com`, identities: [{ channel: 'telegram', external_id: id }] }),
    );
    text.push(JSON.stringify({ email: 'race-2001@example.com' }));
    const records = prepareRecords(jsonLines(toLines(text)), () => isoNow(target.app.services.clock));
    const summary = await importer.importPrepared(cliActor, records, { source: 'race' });
    expect(summary).toMatchObject({ customers: 2, identities: 2, skipped: 2 });
    expect(summary.badLines).toEqual([
      expect.objectContaining({ line: 4, message: 'a customer with this email already exists' }),
      expect.objectContaining({ line: 2, message: expect.stringMatching(/written meanwhile/) }),
    ]);
    expect((await lookup(target.app, 'telegram', '2001')).status).toBe(200);
    expect((await lookup(target.app, 'telegram', '2003')).status).toBe(200);
    expect(await customerByEmail(target, 'race-2002@example.com')).toBeUndefined();
    // The refused attempts left nothing behind, audit included: one event per line that went in.
    const audit = await target.app.inject({ url: '/v1/audit?limit=200', headers: target.admin });
    const imported = audit
      .json<{ items: { action: string; after: Record<string, unknown> }[] }>()
      .items.filter((e) => e.action === 'customers.imported' && e.after.source === 'race');
    expect(imported.map((e) => e.after.lines)).toEqual(
      expect.arrayContaining([
        [1, 1],
        [3, 3],
      ]),
    );
    expect(imported).toHaveLength(2);
  });

  it('reports progress after every batch, refused ones included, ending at the summary', async () => {
    const taken = await createCustomer(target.app, { email: 'progress-taken@example.com' });
    const line = (email: string) => JSON.stringify({ email, identities: [] });
    const text = [line('p1@example.com'), line('p2@example.com'), line(taken.email), line('p1@example.com')];
    text.push(line('p5@example.com'));
    const importer = createImportService({
      db: target.app.services.db.kysely,
      uow: createUnitOfWork({
        db: target.app.services.db.kysely,
        clock: target.app.services.clock,
        hub: target.app.services.hub,
        origin: randomUUID(),
      }),
    });
    const seen: unknown[] = [];
    const records = prepareRecords(jsonLines(toLines(text)), () => isoNow(target.app.services.clock));
    const summary = await importer.importPrepared(cliActor, records, {
      source: 'progress',
      batchSize: 2,
      onProgress: (counts) => seen.push({ ...counts }),
    });
    // Batches: lines 1-2 (clean), 3-4 (both refused: taken, then a repeat of line 1), 5.
    expect(seen).toEqual([
      { customers: 2, identities: 0, skipped: 0 },
      { customers: 2, identities: 0, skipped: 2 },
      { customers: 3, identities: 0, skipped: 2 },
    ]);
    expect(summary).toMatchObject({ customers: 3, identities: 0, skipped: 2 });
  });

  it('reads CSV: one row per identity, customer columns repeated, quoted fields, bad rows by line', async () => {
    const path = file('customers.csv', [
      'email,name,customer_metadata,channel,external_id,display_name,verified',
      'csv1@example.com,"Doe, Jane","{""tier"":""gold""}",telegram,3001,"Jane',
      'on two lines",true',
      'CSV1@example.com,,,slack,u3001,,', // line 4: same customer (email compared case-insensitively)
      'csv2@example.com,Bad,{not json},telegram,3002,,', // line 5: bad JSON: skipped
      'csv3@example.com,No identities,,,,,', // line 6
      'csv4@example.com,Short row', // line 7: wrong number of fields
    ]);
    const summary = await importFile(target.app.services, path, { quiet: true });
    expect(summary.badLines.map((b) => [b.line, b.message])).toEqual([
      [5, 'customer_metadata: not valid JSON'],
      [7, 'expected 7 fields, found 2'],
    ]);
    expect(summary).toMatchObject({ customers: 2, identities: 2, skipped: 2 });
    const jane = await lookup(target.app, 'telegram', '3001');
    expect(jane.body).toMatchObject({ display_name: 'Jane\non two lines', verified: true });
    expect((await lookup(target.app, 'slack', 'U3001')).body.customer_id).toBe(jane.body.customer_id);
    const customer = await target.app.inject({ url: `/v1/customers/${jane.body.customer_id}`, headers: target.admin });
    expect(customer.json()).toMatchObject({ name: 'Doe, Jane', metadata: { tier: 'gold' } });
    expect(await customerByEmail(target, 'csv3@example.com')).toBeDefined();
  });

  it('reads a file of many hand-overs between its threads in order, bad line numbers included', async () => {
    // More customers than the reading thread hands over at once (500) times how far it may run
    // ahead (3), so that the writer asks for more several times.
    const lines = Array.from({ length: 2_345 }, (_, i) =>
      i === 1_700
        ? '{"email": "broken'
        : JSON.stringify({
            email: `bulk${i}@threads.example`,
            identities: [{ channel: 'telegram', external_id: `${5_000_000 + i}` }],
          }),
    );
    const summary = await importFile(target.app.services, file('bulk.jsonl', lines), { quiet: true, batchSize: 300 });
    expect(summary).toMatchObject({ customers: 2_344, identities: 2_344, skipped: 1 });
    expect(summary.badLines.map((b) => b.line)).toEqual([1_701]);
    for (const i of [0, 499, 500, 1_699, 1_701, 2_344]) {
      expect((await lookup(target.app, 'telegram', `${5_000_000 + i}`)).body.customer_email).toBe(
        `bulk${i}@threads.example`,
      );
    }
  });

  it("fails with the reading thread's error, and writes nothing, when the file cannot be read", async () => {
    await expect(importFile(target.app.services, dir, { quiet: true, format: 'jsonl' })).rejects.toThrow(/EISDIR/);
  });
});

async function* toLines(lines: string[]) {
  yield* lines;
}

describe.runIf(postgresUrl)('a large import on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(postgres);
  });
  afterAll(() => t.close());

  const vacuumed = async () => {
    const { rows } = await sql<{ relname: string; last_vacuum: Date | null; last_analyze: Date | null }>`
      select relname, last_vacuum, last_analyze from pg_stat_user_tables
      where relname in ('customers', 'identities', 'identity_keys') order by relname`.execute(t.app.services.db.kysely);
    return rows.map((r) => [r.relname, r.last_vacuum !== null && r.last_analyze !== null]);
  };
  const importLines = (lines: string[], settleFrom: number) =>
    createImportService({ db: t.app.services.db.kysely, uow: t.app.services.uow }).importPrepared(
      cliActor,
      prepareRecords(jsonLines(toLines(lines)), () => isoNow(t.app.services.clock)),
      { source: 'settle', settleFrom },
    );
  const line = () =>
    JSON.stringify({
      email: `settle-${randomUUID()}@example.com`,
      identities: [{ channel: 'telegram', external_id: String(Math.floor(Math.random() * 1e12)) }],
    });

  it('ends by vacuuming and analyzing the tables it wrote, from settleFrom customers on', async () => {
    expect(await importLines([line(), line()], 3)).toMatchObject({ customers: 2 });
    expect(await vacuumed()).toEqual([
      ['customers', false],
      ['identities', false],
      ['identity_keys', false],
    ]);
    expect(await importLines([line(), line(), line()], 3)).toMatchObject({ customers: 3 });
    expect(await vacuumed()).toEqual([
      ['customers', true],
      ['identities', true],
      ['identity_keys', true],
    ]);
  });
});
