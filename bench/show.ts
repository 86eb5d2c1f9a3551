import { readFileSync } from 'node:fs';
import { type BenchReport, formatReport } from './report.js';

// Prints the table of a saved `npm run bench -- --json` result: `npx tsx bench/show.ts FILE`.
for (const file of process.argv.slice(2)) {
  process.stdout.write(formatReport(JSON.parse(readFileSync(file, 'utf8')) as BenchReport));
}
