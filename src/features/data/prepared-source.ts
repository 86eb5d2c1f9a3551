import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IdentityRules } from '../identities/identities.js';
import type { PreparedRecord } from './data-record.js';
import type { PreparedBatch, PrepareWorkerData } from './prepare-worker.js';
import { fromWire } from './record-wire.js';
import type { SourceFormat } from './source-reader.js';

/** Records per message between the threads. */
const BATCH = 500;
/** Batches the reading thread may have ready before the writer takes them. */
const AHEAD = 3;

function startWorker(workerData: PrepareWorkerData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./prepare-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData });
  // Tests and the bench run the TypeScript sources: tsx compiles the worker's modules too.
  // (tsx's ESM API: its CommonJS build cannot register hooks in a worker.)
  const api = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  );
  const code = `import(${JSON.stringify(api.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * A file's customers, read, checked and normalized on a worker thread while this thread writes
 * the previous ones: reading and checking is about a quarter of an import's work on one thread
 * (JSON parsing, validation, normalization, ids; profiled), and SQLite's writes most of the rest.
 * From the TypeScript sources (tests, the bench) the worker runs them through tsx.
 */
export async function* preparedRecordsOfFile(
  path: string,
  format: SourceFormat,
  now: () => string,
  onBytes: (bytes: number) => void = () => undefined,
  rules: IdentityRules = {},
): AsyncGenerator<PreparedRecord> {
  const worker = startWorker({ path, format, batchSize: BATCH, rules });
  const ready: PreparedBatch[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (batch: PreparedBatch) => {
    ready.push(batch);
    wakeUp();
  });
  worker.on('error', (error) => {
    failure ??= error;
    wakeUp();
  });
  // After the last batch the thread ends by itself; that exit is only read if a batch is missing.
  worker.on('exit', (code) => {
    failure ??= new Error(`the import's reading thread stopped early (exit code ${code})`);
    wakeUp();
  });
  try {
    for (let i = 0; i < AHEAD; i++) worker.postMessage(now());
    let reported = 0;
    for (;;) {
      let batch = ready.shift();
      while (!batch) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        batch = ready.shift();
      }
      if (!batch.done) worker.postMessage(now());
      onBytes(batch.bytes - reported);
      reported = batch.bytes;
      for (const record of batch.records) yield fromWire(record);
      if (batch.done) return;
    }
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
  }
}
