import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { BackupError, backupSqlite } from '../db/sqlite-backup.js';

export function registerBackupCommand(program: Command) {
  program
    .command('backup')
    .description(
      'copy the SQLite database to FILE while servers keep running (a consistent copy as of one moment); ' +
        'for PostgreSQL use pg_dump',
    )
    .argument('<file>', 'where to write the copy; an existing file is refused unless --force')
    .option('--force', 'replace FILE if it exists')
    .action(async (file: string, options: { force?: boolean }) => {
      const { database } = loadConfig();
      if (database.kind === 'postgres') {
        throw new BackupError(
          'backup copies SQLite databases only; DATABASE_URL is PostgreSQL: use pg_dump instead, e.g. ' +
            'pg_dump --format=custom --file=identity.dump "$DATABASE_URL" (see docs/operations.md, "Backups")',
        );
      }
      const result = await backupSqlite(database.path, file, { force: options.force === true });
      process.stdout.write(
        `Backed up ${database.path} to ${result.file}: ${result.pages} pages, ${result.bytes} bytes, in ${(result.ms / 1000).toFixed(2)} s.\n`,
      );
    });
}
