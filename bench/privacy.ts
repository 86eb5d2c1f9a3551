import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { cliActor } from '../src/features/changes/changes.js';
import { createServices, type Services } from '../src/services.js';
import { type BenchDatabase, createBenchDatabase } from './database.js';
import { writeSeedFile } from './seed.js';

// Forgetting a person at scale (issue 32): export and erase one person in a database of many
// customers and several million audit entries, each of which must take well under a second (they
// read a person's rows through indexes, never a table). With --import-cost, also what SQLite's
// secure_delete costs an import of the same customers (one import each way).
//
//   npx tsx bench/privacy.ts --customers 1000000 [--audit-per-customer 3] [--people 20]
//                            [--database postgres://…] [--import-cost] [--json]

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quiet = { warn: () => undefined, error: () => undefined };

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    'audit-per-customer': { type: 'string', default: '3' },
    people: { type: 'string', default: '20' },
    database: { type: 'string' },
    'import-cost': { type: 'boolean', default: false },
    /** Only the import's cost: no export or erase. */
    'import-cost-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const customers = Number(args.customers);
const auditPerCustomer = Number(args['audit-per-customer']);
const people = Number(args.people);

/**
 * An import of FILE in a process of its own, as an operator runs it: `identity-service import`,
 * or with `secureDelete` the same import with secure_delete set on the import's connection.
 */
async function importWithCli(url: string, file: string, secureDelete?: 'on' | 'off') {
  const command = secureDelete
    ? [join(ROOT, 'bench', 'import-secure-delete.ts'), file, secureDelete]
    : [join(ROOT, 'src', 'cli', 'main.ts'), 'import', file, '--json'];
  const child = spawn(process.execPath, ['--import', 'tsx', ...command], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`import exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  return JSON.parse(stdout) as { customers: number; seconds: number };
}

/** Audit entries in bulk, several per customer and one per identity, with the person's values in them. */
async function fillAudit(services: Services, url: string) {
  const postgres = services.db.dialect === 'postgres';
  const id = postgres ? 'gen_random_uuid()::text' : 'lower(hex(randomblob(16)))';
  const [object, cast] = postgres ? ['json_build_object', '::text'] : ['json_object', ''];
  const statements: string[] = [];
  for (let k = 0; k < auditPerCustomer; k++) {
    statements.push(`INSERT INTO audit_events (id, at, actor_key_id, actor, action, customer_id, identity_id, changes)
      SELECT ${id}, c.created_at, NULL, 'bench', 'customer.updated', c.id, NULL,
        ${object}('before', ${object}('name', c.name), 'after', ${object}('name', c.name, 'email', c.email))${cast}
      FROM customers c`);
  }
  statements.push(`INSERT INTO audit_events (id, at, actor_key_id, actor, action, customer_id, identity_id, changes)
    SELECT ${id}, i.created_at, NULL, 'bench', 'identity.verified', i.customer_id, i.id,
      ${object}('after', ${object}('external_id', i.external_id))${cast}
    FROM identities i`);
  if (postgres) {
    // A connection of its own: the service's pool cuts any statement off after 15 s.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
      await client.query('VACUUM (ANALYZE) audit_events');
    } finally {
      await client.end();
    }
  } else {
    for (const statement of statements) await sql.raw(statement).execute(services.db.kysely);
  }
  const row = await services.db.kysely
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const max = (xs: number[]) => Math.max(...xs);
const ms = (x: number) => Math.round(x * 10) / 10;

async function main() {
  const database = await createBenchDatabase(args.database);
  try {
    const seedFile = join(database.dir, 'seed.jsonl');
    await writeSeedFile(seedFile, customers * 2);
    if (!args['import-cost-only']) await exportAndErase(database, seedFile);
    if ((args['import-cost'] || args['import-cost-only']) && database.kind === 'sqlite') {
      await importCost(seedFile);
    }
  } finally {
    await database.dispose();
  }
}

async function exportAndErase(database: BenchDatabase, seedFile: string) {
  {
    // (One block, so that the services are closed before the import cost is measured.)
    const imported = await importWithCli(database.url, seedFile);
    const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
    const services = await createServices(config, { logger: quiet });
    try {
      const fillStarted = performance.now();
      const auditEntries = await fillAudit(services, database.url);
      const fillSeconds = (performance.now() - fillStarted) / 1000;
      await services.webhooks.create(cliActor, { url: 'http://127.0.0.1:9/hooks', events: ['*'] });

      // People spread over the whole set, each with a merge, an alias and a few changes of their own.
      const step = Math.max(1, Math.floor(customers / (people * 2)));
      const sample = await services.db.kysely
        .selectFrom('customers')
        .select('id')
        .orderBy('id')
        .where(sql<boolean>`1 = 1`)
        .limit(people * 2 * step)
        .execute();
      const ids = sample.filter((_, i) => i % step === 0).map((row) => row.id);
      const persons: string[] = [];
      for (let p = 0; p + 1 < ids.length && persons.length < people; p += 2) {
        const [person, other] = [ids[p] as string, ids[p + 1] as string];
        await services.merges.merge(cliActor, person, { source_customer_id: other });
        const [identity] = await services.identities.list(person, 'telegram');
        if (identity) await services.identities.addAlias(cliActor, person, identity.id, String(990_000_000 + p));
        for (let i = 0; i < 3; i++) await services.customers.update(cliActor, person, { metadata: { round: i } });
        persons.push(person);
      }

      const exportMs: number[] = [];
      const eraseMs: number[] = [];
      let exportedAudit = 0;
      for (const person of persons) {
        let started = performance.now();
        const document = await services.personExport.exportCustomer(person);
        exportMs.push(performance.now() - started);
        exportedAudit += document.audit.length;
        started = performance.now();
        await services.erasure.erase(cliActor, person, { suppress: true, reason: 'bench' });
        eraseMs.push(performance.now() - started);
      }
      const result = {
        database: database.kind,
        customers: imported.customers,
        auditEntries,
        people: persons.length,
        auditEntriesPerPerson: Math.round(exportedAudit / persons.length),
        exportMs: { median: ms(median(exportMs)), max: ms(max(exportMs)) },
        eraseMs: { median: ms(median(eraseMs)), max: ms(max(eraseMs)) },
        seedImportSeconds: ms(imported.seconds),
        auditFillSeconds: ms(fillSeconds),
      };
      if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        process.stdout.write(
          `${result.database}: ${result.customers.toLocaleString('en')} customers, ${auditEntries.toLocaleString('en')} audit entries; ` +
            `${result.people} people (~${result.auditEntriesPerPerson} audit entries each, a merge, an alias):\n` +
            `  export  median ${result.exportMs.median} ms, max ${result.exportMs.max} ms\n` +
            `  erase   median ${result.eraseMs.median} ms, max ${result.eraseMs.max} ms (with suppression)\n`,
        );
      }
    } finally {
      await services.close();
    }
  }
}

/** The same file into two fresh databases, secure_delete as shipped (on) and off, one import each. */
async function importCost(seedFile: string) {
  const times: Record<string, number> = {};
  for (const mode of ['on', 'off'] as const) {
    const fresh = await createBenchDatabase(undefined);
    try {
      const run = await importWithCli(fresh.url, seedFile, mode);
      times[mode] = run.seconds;
    } finally {
      await fresh.dispose();
    }
  }
  const on = times.on as number;
  const off = times.off as number;
  process.stdout.write(
    `import of ${customers.toLocaleString('en')} customers: secure_delete on ${ms(on)} s, off ${ms(off)} s (${ms(((on - off) / off) * 100)} %)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
