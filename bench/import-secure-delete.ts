import { sql } from 'kysely';
import { importFile } from '../src/cli/data.js';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/services.js';

// One import of FILE into DATABASE_URL (SQLite) as the command line does it, with secure_delete
// as shipped (`on`) or turned off on the import's connection (`off`): bench/privacy.ts runs it
// both ways to measure what secure_delete costs an import. Prints the summary as JSON.

const [file, mode] = process.argv.slice(2);
if (!file || (mode !== 'on' && mode !== 'off')) throw new Error('usage: import-secure-delete.ts FILE on|off');
const quiet = { warn: () => undefined, error: () => undefined };
const services = await createServices(loadConfig(), { logger: quiet });
try {
  await sql.raw(`pragma secure_delete = ${mode}`).execute(services.db.kysely);
  const summary = await importFile(services, file, { quiet: true });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  await services.close();
}
