import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { DomainError } from '../internal/errors.js';
import { SERVICE_VERSION } from '../internal/version.js';
import { registerBackupCommand } from './backup.js';
import { withServices } from './context.js';
import { registerDataCommands } from './data.js';
import { registerDiscordCliCommands } from './discord.js';
import { registerKeyCommands } from './keys.js';
import { registerPrivacyCommands } from './privacy.js';

const program = new Command('identity-service')
  .description(
    'Command line of the identity service. Reads DATABASE_URL like the server (default sqlite:./data/identity.db).',
  )
  .version(SERVICE_VERSION)
  .showHelpAfterError();

program
  .command('migrate')
  .description('bring the database schema up to date (the server also does this at start)')
  .action(async () => {
    await withServices(async () => undefined);
    process.stdout.write('Database is up to date.\n');
  });

registerKeyCommands(program);
registerDataCommands(program);
registerDiscordCliCommands(program);
registerBackupCommand(program);
registerPrivacyCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof DomainError || error instanceof ConfigError) {
    process.stderr.write(`error: ${error.message}\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exitCode = 1;
});
