import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { cliActor } from '../features/changes/changes.js';
import { exportLines } from '../features/data/export.service.js';
import { type BadLine, createImportService, DEFAULT_BATCH_SIZE } from '../features/data/import.service.js';
import { preparedRecordsOfFile } from '../features/data/prepared-source.js';
import { detectFormat, type SourceFormat } from '../features/data/source-reader.js';
import { isoNow } from '../internal/clock.js';
import type { Services } from '../services.js';
import { withServices } from './context.js';

/** Bad lines printed one by one; the rest are only counted, so a wrong file cannot flood the terminal. */
const PRINTED_BAD_LINES = 1_000;
/** Exit status when some lines were skipped: not a failure (1), but scripts can tell. */
export const EXIT_SKIPPED = 2;

const where = (bad: BadLine) => (bad.lastLine > bad.line ? `lines ${bad.line}-${bad.lastLine}` : `line ${bad.line}`);

/**
 * Reads a file into the database through the same rules as the API; usable without the CLI (tests).
 * The file is read and checked on a second thread while this one writes (prepared-source.ts).
 */
export async function importFile(
  services: Services,
  path: string,
  options: { format?: SourceFormat; batchSize?: number; progress?: boolean; quiet?: boolean } = {},
) {
  const format = options.format ?? (await detectFormat(path));
  const size = (await stat(path)).size;
  const bars = options.progress
    ? new cliProgress.MultiBar(
        {
          stream: process.stderr,
          format:
            ' {bar} {percentage}% | {customers} customers, {identities} identities, {skipped} skipped | {eta_formatted}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const bar = bars?.create(size, 0, { customers: 0, identities: 0, skipped: 0 });
  let bytes = 0;
  let printed = 0;
  const say = (text: string) => (bars ? bars.log(`${text}\n`) : process.stderr.write(`${text}\n`));

  const importer = createImportService({
    db: services.db.kysely,
    // The services' own unit of work: its outbox writes the import's webhook events.
    uow: services.uow,
    suppressions: services.suppressions,
  });
  try {
    const summary = await importer.importPrepared(
      cliActor,
      preparedRecordsOfFile(
        path,
        format,
        () => isoNow(services.clock),
        (n) => {
          bytes += n;
        },
        services.identityRules,
      ),
      {
        source: basename(path),
        batchSize: options.batchSize,
        onBadLine: (bad) => {
          if (options.quiet || printed++ >= PRINTED_BAD_LINES) return;
          say(`${where(bad)}: ${bad.message} (skipped)`);
        },
        onProgress: (counts) => bar?.update(Math.min(bytes, size), counts),
      },
    );
    const { customers, identities, skipped } = summary;
    bar?.update(size, { customers, identities, skipped });
    return summary;
  } finally {
    bars?.stop();
  }
}

/** Writes every customer as JSON Lines, waiting for the stream when it is full. */
export async function exportTo(services: Services, out: Writable): Promise<number> {
  let lines = 0;
  for await (const chunk of exportLines(services.db.kysely)) {
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  return lines;
}

export function registerDataCommands(program: Command) {
  program
    .command('import')
    .description(
      'import customers with their identities from JSON Lines (one customer a line) or CSV (one identity a row); ' +
        'bad lines are reported with their line numbers and skipped',
    )
    .argument('<file>', 'a .jsonl or .csv file (else detected from its first character)')
    .addOption(
      new Option('--format <format>', 'jsonl or csv (default: by extension or content)').choices(['jsonl', 'csv']),
    )
    .option('--batch-size <n>', 'customers per transaction', (v) => positive(v), DEFAULT_BATCH_SIZE)
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, options: { format?: SourceFormat; batchSize: number; json?: boolean }) => {
      // Already in a Node with IMPORT_NODE_FLAGS: main.ts started one before loading this.
      const summary = await withServices((s) =>
        importFile(s, file, { format: options.format, batchSize: options.batchSize, progress: process.stderr.isTTY }),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } else {
        const rate = summary.seconds > 0 ? Math.round(summary.identities / summary.seconds) : summary.identities;
        process.stdout.write(
          `Imported ${summary.customers} customers with ${summary.identities} identities in ` +
            `${summary.seconds.toFixed(2)} s (${rate} identities/s); ${summary.skipped} skipped.\n`,
        );
      }
      if (summary.skipped > 0) process.exitCode = EXIT_SKIPPED;
    });

  program
    .command('export')
    .description('write every customer with its identities as JSON Lines, which import reads back unchanged')
    .option('--output <file>', 'write to this file instead of standard output')
    .action(async (options: { output?: string }) => {
      await withServices(async (s) => {
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        const lines = await exportTo(s, out);
        if (options.output) {
          out.end();
          await once(out, 'finish');
          process.stderr.write(`Exported ${lines} customers to ${options.output}.\n`);
        }
      });
    });
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
