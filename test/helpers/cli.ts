import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `identity-service ...args` from the sources, as another process; never throws, so that exit codes
 * can be checked. `env` adds to this process's environment, or is the whole of it with
 * `inheritEnv: false` (a command that must read only the settings given).
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  options: { inheritEnv?: boolean; timeoutMs?: number } = {},
): Promise<CliResult> {
  const base = options.inheritEnv === false ? { PATH: process.env.PATH ?? '' } : process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...base, ...env },
      timeout: options.timeoutMs ?? 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
