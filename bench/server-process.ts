import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  /** Resident memory of the server process, in MB (VmRSS from /proc). */
  rssMb(): number | undefined;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM (SIGKILL after 15 s); resolves with the exit code, null when it had to be killed. */
  stop(): Promise<number | null>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export function rssMbOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * src/server.ts compiled to plain JavaScript, as production runs it (`node dist/server.js`): under
 * tsx the server would carry a module-loader thread, some 45 MB that production does not have.
 * Bundled fresh each run (dependencies stay in node_modules), so it is never a stale build.
 */
async function buildServer(): Promise<string> {
  const outfile = join(ROOT, '.tmp', 'bench', 'server.mjs');
  await build({
    entryPoints: [join(ROOT, 'src', 'server.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return outfile;
}

/** The node flags `npm start` gives the server (package.json), so that the bench measures that process. */
function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

/**
 * The real server in a process of its own, so that its memory and CPU are its own and the load
 * generator's are not counted; on 127.0.0.1 only.
 */
export async function startServer(
  env: Record<string, string>,
  options: { cpuProfDir?: string | undefined; nodeArgs?: string[] | undefined } = {},
): Promise<ServerProcess> {
  const [port, entry] = await Promise.all([freePort(), buildServer()]);
  // Extra flags after those of `npm start`, so that they override them (for node, the last
  // occurrence of a flag wins, and NODE_OPTIONS cannot override the command line).
  const nodeArgs = [...startFlags(), ...(options.nodeArgs ?? [])];
  if (options.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  return startProcess(process.execPath, [...nodeArgs, entry], { ...env, PORT: String(port) }, port, '/readyz');
}

/**
 * Node's bare HTTP server answering every request with `body`, as JSON (bench/floor/server.mjs),
 * after `workMicros` of CPU per request (bench/extra-work.ts).
 */
export async function startFloor(body: string, workMicros = 0): Promise<ServerProcess> {
  const port = await freePort();
  return startProcess(
    process.execPath,
    [join(ROOT, 'bench', 'floor', 'server.mjs')],
    // The bench's own NODE_OPTIONS (if any) are not the floor's, as they are not our server's.
    { PORT: String(port), FLOOR_BODY: body, FLOOR_WORK_US: String(workMicros), NODE_OPTIONS: '' },
    port,
    '/',
  );
}

const fastApiPython = () => process.env.BENCH_PYTHON ?? '/usr/bin/python3';

/** Throws before anything is measured when the comparison could not run at the end. */
export function checkFastApiInstalled(): void {
  const check = spawnSync(fastApiPython(), ['-c', 'import fastapi, uvicorn'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(
      `--compare-fastapi needs FastAPI and uvicorn for ${fastApiPython()}: apt-get install python3-fastapi python3-uvicorn (or set BENCH_PYTHON)\n${check.stderr ?? check.error?.message ?? ''}`,
    );
  }
}

/**
 * The FastAPI + uvicorn comparison service (bench/fastapi/app.py) over the same SQLite file, with
 * Debian's python3-fastapi and python3-uvicorn (BENCH_PYTHON names another interpreter).
 */
export async function startFastApi(sqlitePath: string): Promise<ServerProcess> {
  const port = await freePort();
  const python = fastApiPython();
  const args = ['-m', 'uvicorn', 'app:app', '--app-dir', join(ROOT, 'bench', 'fastapi')];
  args.push('--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning');
  return startProcess(python, args, { DATABASE_PATH: sqlitePath }, port, '/healthz');
}

async function startProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, HOST: '127.0.0.1' },
    // Request lines go nowhere, as they would to a log shipper; errors still show.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${stderr}`);
    try {
      const response = await fetch(`${url}${readyPath}`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become ready within 60 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    rssMb: () => rssMbOf(pid),
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}
