/**
 * The import's reading thread (see prepared-source.ts): reads a file, checks and normalizes each
 * customer, and hands them over in batches, one batch per request, so that it never runs more
 * than a few batches ahead of the writer. Each request carries the time to stamp records with.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IdentityRules } from '../identities/identities.js';
import { prepareRecords } from './data-record.js';
import { type RecordWire, toWire } from './record-wire.js';
import { readRecords, type SourceFormat } from './source-reader.js';

export interface PrepareWorkerData {
  path: string;
  format: SourceFormat;
  batchSize: number;
  /** The service's rules for external ids (DEFAULT_PHONE_REGION), as the API applies them. */
  rules: IdentityRules;
}

/** What the reading thread sends: a batch (record-wire.ts), the characters read so far, and whether it is the last. */
export interface PreparedBatch {
  records: RecordWire[];
  bytes: number;
  done: boolean;
}

const port = parentPort;
if (!port) throw new Error('prepare-worker.ts runs as a worker thread');
const { path, format, batchSize, rules } = workerData as PrepareWorkerData;

const requests: string[] = [];
let wake: (() => void) | undefined;
port.on('message', (now: string) => {
  requests.push(now);
  wake?.();
});

/** Waits for the writer to ask for a batch; returns the time it sent. */
async function requested(): Promise<string> {
  while (requests.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return requests.shift() as string;
}

let bytes = 0;
let now = '';
const records = prepareRecords(
  readRecords(path, format, (n) => {
    bytes += n;
  }),
  () => now,
  rules,
)[Symbol.asyncIterator]();

for (;;) {
  now = await requested();
  const batch: PreparedBatch = { records: [], bytes: 0, done: false };
  while (batch.records.length < batchSize) {
    const next = await records.next();
    if (next.done) {
      batch.done = true;
      break;
    }
    batch.records.push(toWire(next.value));
  }
  batch.bytes = bytes;
  port.postMessage(batch);
  if (batch.done) break;
}
port.close();
