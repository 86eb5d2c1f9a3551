import { type Command, InvalidArgumentError, Option } from 'commander';
import { SCOPES, type Scope } from '../features/api-keys/api-keys.js';
import { cliActor } from '../features/changes/changes.js';
import { withServices } from './context.js';

export function registerKeyCommands(program: Command) {
  const keys = program.command('keys').description('manage API keys (the same keys as /v1/api-keys)');

  keys
    .command('create')
    .description('create a key and print it; it is shown this once')
    .requiredOption('--name <name>', 'who or what uses the key, e.g. dashboard')
    .addOption(new Option('--scope <scope>', 'admin or runtime').choices(SCOPES).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(async (options: { name: string; scope: Scope; json?: boolean }) => {
      const name = options.name.trim();
      if (!name || name.length > 100) throw new InvalidArgumentError('--name must be 1 to 100 characters');
      const created = await withServices((s) => s.apiKeys.create(cliActor, { name, scope: options.scope }));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(created)}\n`);
        return;
      }
      process.stdout.write(
        `Created ${created.scope} key "${created.name}" (id ${created.id}).\n` +
          `Key (shown once, store it now):\n\n  ${created.key}\n\n`,
      );
    });

  keys
    .command('list')
    .description('list active keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withServices((s) => s.apiKeys.list());
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        return;
      }
      if (list.length === 0) {
        process.stdout.write('No active keys.\n');
        return;
      }
      const rows = list.map((k) => [k.id, k.name, k.scope, `${k.prefix}…`, k.created_at, k.last_used_at ?? 'never']);
      const header = ['ID', 'NAME', 'SCOPE', 'PREFIX', 'CREATED', 'LAST USED'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
      for (const row of [header, ...rows]) {
        process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}\n`);
      }
    });

  keys
    .command('revoke')
    .description('revoke a key; it stops working at once')
    .argument('<id>', 'the key id (see keys list)')
    .action(async (id: string) => {
      await withServices((s) => s.apiKeys.revoke(cliActor, id));
      process.stdout.write(`Revoked ${id}.\n`);
    });

  keys
    .command('restore')
    .description(
      'bring a revoked key back, e.g. the BOOTSTRAP_API_KEY after a revocation by mistake (nothing else does: a revoked key stays revoked across restarts); audited',
    )
    .argument('<id>', 'the key id (the server logs it when BOOTSTRAP_API_KEY names a revoked key)')
    .action(async (id: string) => {
      const key = await withServices((s) => s.apiKeys.restore(cliActor, id));
      process.stdout.write(`Restored ${key.scope} key "${key.name}" (id ${key.id}); it works again.\n`);
    });
}
