import { randomUUID } from 'node:crypto';
import { cliLogger } from '../../../src/cli/context.js';
import { loadConfig } from '../../../src/config.js';
import { cliActor } from '../../../src/features/changes/changes.js';
import { createUnitOfWork } from '../../../src/features/changes/unit-of-work.js';
import { type PreparedRecord, prepareRecords } from '../../../src/features/data/data-record.js';
import { createImportService } from '../../../src/features/data/import.service.js';
import type { SourceRecord } from '../../../src/features/data/source-reader.js';
import { createServices } from '../../../src/services.js';

// The command line's import, as another process on DATABASE_URL, fed from memory rather than by
// the file reader's thread, and every record checked before the first write: nothing else pauses it
// between batches. Argument: how many customers.
// IMPORT_YIELD_MS, when set, overrides the pause between batches (0: none, to show it matters).

const count = Number(process.argv[2] ?? 10_000);
const services = await createServices(loadConfig(), { logger: cliLogger, listenForChanges: false });
const importer = createImportService({
  db: services.db.kysely,
  uow: createUnitOfWork({ db: services.db.kysely, clock: services.clock, hub: services.hub, origin: randomUUID() }),
});
async function* records(): AsyncGenerator<SourceRecord> {
  for (let i = 0; i < count; i++) {
    const value = {
      email: `memory-${i}@example.com`,
      identities: [{ channel: 'telegram', external_id: String(1_815_500_000 + i) }],
    };
    yield { line: i + 1, lastLine: i + 1, value };
  }
}
// Every record checked first, so that the writer never waits for the next one.
const prepared: PreparedRecord[] = [];
for await (const record of prepareRecords(records(), () => new Date().toISOString())) prepared.push(record);
async function* ready(): AsyncGenerator<PreparedRecord> {
  yield* prepared;
}
const yieldMs = process.env.IMPORT_YIELD_MS === undefined ? undefined : Number(process.env.IMPORT_YIELD_MS);
process.stdout.write('writing\n');
const summary = await importer.importPrepared(cliActor, ready(), {
  source: 'memory',
  batchSize: 250,
  ...(yieldMs === undefined ? {} : { yieldMs }),
});
await services.close();
process.stdout.write(`${JSON.stringify({ customers: summary.customers, seconds: summary.seconds })}\n`);
