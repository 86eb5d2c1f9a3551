import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { type CsvRow, CsvSplitter, readHeader, rowsToRecord, toRow } from './csv-format.js';

export type SourceFormat = 'jsonl' | 'csv';

/** One customer read from a file: its value, or why it could not be read; lines are 1-based. */
export interface SourceRecord {
  line: number;
  lastLine: number;
  value?: unknown;
  error?: string;
}

/** By extension first (.jsonl, .ndjson, .json, .csv), else by the first character that is not a space. */
export async function detectFormat(path: string): Promise<SourceFormat> {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4096), 0, 4096, 0);
    const head = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    return head.startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    await file.close();
  }
}

/** Reads a file line by line; `onBytes` reports progress (characters read, close enough to bytes). */
export async function* readRecords(
  path: string,
  format: SourceFormat,
  onBytes: (bytes: number) => void = () => undefined,
): AsyncGenerator<SourceRecord> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  const counted = (async function* () {
    for await (const line of lines) {
      onBytes(line.length + 1);
      yield line;
    }
  })();
  yield* format === 'jsonl' ? jsonLines(counted) : csvRecords(counted);
}

/**
 * Where JSON.parse stopped, without its quote of the text (V8 quotes a short line whole, which
 * may be an email address or a name).
 */
function notJson(error: unknown): string {
  const at = /at position (\d+)/.exec((error as Error).message)?.[1];
  return at === undefined ? 'not valid JSON' : `not valid JSON (at position ${at})`;
}

export async function* jsonLines(lines: AsyncIterable<string>): AsyncGenerator<SourceRecord> {
  let n = 0;
  for await (const text of lines) {
    n++;
    const line = n === 1 ? text.replace(/^\uFEFF/, '') : text;
    if (line.trim() === '') continue;
    try {
      yield { line: n, lastLine: n, value: JSON.parse(line) };
    } catch (error) {
      yield { line: n, lastLine: n, error: notJson(error) };
    }
  }
}

/** Rows grouped into customers: consecutive rows with the same email (compared case-insensitively). */
export async function* csvRecords(lines: AsyncIterable<string>): AsyncGenerator<SourceRecord> {
  const splitter = new CsvSplitter();
  let columns: ReturnType<typeof readHeader> | undefined;
  let n = 0;
  let start = 0;
  let group: { email: string; first: number; last: number; rows: CsvRow[]; error?: string } | undefined;

  const finish = (): SourceRecord | undefined => {
    if (!group) return undefined;
    const { first, last, rows, error } = group;
    group = undefined;
    if (error) return { line: first, lastLine: last, error };
    try {
      return { line: first, lastLine: last, value: rowsToRecord(rows) };
    } catch (e) {
      return { line: first, lastLine: last, error: (e as Error).message };
    }
  };

  for await (const text of lines) {
    n++;
    if (!splitter.open) start = n;
    if (!splitter.open && text.trim() === '') continue;
    const fields = splitter.push(text);
    if (!fields) continue;
    if (!columns) {
      columns = readHeader(fields);
      continue;
    }
    let row: CsvRow | undefined;
    let error: string | undefined;
    try {
      row = toRow(columns, fields);
    } catch (e) {
      error = (e as Error).message;
    }
    const email = (row?.email ?? '').trim().toLowerCase();
    if (group && (email !== group.email || error !== undefined)) {
      const done = finish();
      if (done) yield done;
    }
    if (error !== undefined || !row) {
      yield { line: start, lastLine: n, error: error ?? 'unreadable row' };
      continue;
    }
    if (!group) group = { email, first: start, last: n, rows: [] };
    group.rows.push(row);
    group.last = n;
  }
  const done = finish();
  if (done) yield done;
  if (splitter.open)
    yield { line: start, lastLine: n, error: 'a quoted field is not closed before the end of the file' };
}
