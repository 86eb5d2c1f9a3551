import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { cliActor } from '../features/changes/changes.js';
import { withServices } from './context.js';

export function registerPrivacyCommands(program: Command) {
  program
    .command('export-customer')
    .description("print everything held about a customer as JSON (an access request's answer)")
    .argument('<id>', 'the customer id')
    .option('--out <file>', 'write to this file (created readable by its owner only) instead of stdout')
    .action(async (id: string, options: { out?: string }) => {
      const document = await withServices((s) => s.personExport.exportCustomer(id));
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (options.out) {
        await writeFile(options.out, text, { mode: 0o600 });
        process.stderr.write(`Wrote ${options.out}.\n`);
      } else {
        process.stdout.write(text);
      }
    });

  program
    .command('erase')
    .description(
      'forget a customer for good: it, the customers merged into it, its identities and merges; audit entries and webhook bodies about it keep only ids',
    )
    .argument('<id>', 'the customer id')
    .option('--suppress', 'keep keyed hashes of its email and accounts so they cannot come back until lifted')
    .option('--reason <text>', 'why, for the audit trail (no personal data)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { suppress?: boolean; reason?: string; json?: boolean }) => {
      const erased = await withServices((s) =>
        s.erasure.erase(cliActor, id, { suppress: options.suppress === true, reason: options.reason }),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(erased)}\n`);
        return;
      }
      process.stdout.write(
        `Erased customer ${erased.customer_id} and ${erased.identity_ids.length} identities at ${erased.erased_at}` +
          (options.suppress ? `; ${erased.suppressed} values suppressed.\n` : '.\n'),
      );
    });
}
