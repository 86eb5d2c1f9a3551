/**
 * CSV import: one row per identity, with the customer's columns repeated on each of its rows.
 * Consecutive rows with the same email are one customer (the first row's customer columns
 * count); a row with empty `channel` and `external_id` is a customer without identities.
 * The header row names the columns, in any order; only `email` is required.
 */
export const CSV_COLUMNS = [
  'customer_id',
  'email',
  'name',
  'customer_metadata',
  'customer_created_at',
  'customer_updated_at',
  'identity_id',
  'channel',
  'external_id',
  'instance_id',
  'display_name',
  'role_override',
  'verified',
  'verified_at',
  'verified_via',
  'aliases',
  'identity_metadata',
  'identity_created_at',
  'identity_updated_at',
] as const;

type Column = (typeof CSV_COLUMNS)[number];
export type CsvRow = Partial<Record<Column, string>>;

/**
 * Splits RFC 4180 records out of lines: quoted fields may hold commas, doubled quotes and line
 * breaks, so one record can span several lines. Returns the fields once a record is complete.
 */
export class CsvSplitter {
  #fields: string[] = [];
  #field = '';
  #quoted = false;

  /** Feeds one line (without its line break); undefined while a quoted field is still open. */
  push(line: string): string[] | undefined {
    let i = 0;
    if (this.#quoted) this.#field += '\n';
    while (i < line.length) {
      const c = line[i] as string;
      if (this.#quoted) {
        if (c === '"') {
          if (line[i + 1] === '"') {
            this.#field += '"';
            i += 2;
            continue;
          }
          this.#quoted = false;
        } else {
          this.#field += c;
        }
      } else if (c === '"' && this.#field === '') {
        this.#quoted = true;
      } else if (c === ',') {
        this.#fields.push(this.#field);
        this.#field = '';
      } else {
        this.#field += c;
      }
      i++;
    }
    if (this.#quoted) return undefined;
    const fields = [...this.#fields, this.#field];
    this.#fields = [];
    this.#field = '';
    return fields;
  }

  get open() {
    return this.#quoted;
  }
}

export class CsvHeaderError extends Error {
  override name = 'CsvHeaderError';
}

export function readHeader(fields: string[]): Column[] {
  const columns = fields.map((f) =>
    f
      .trim()
      .replace(/^\uFEFF/, '')
      .toLowerCase(),
  );
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (unknown.length > 0) {
    throw new CsvHeaderError(`unknown CSV column(s): ${unknown.join(', ')}; known: ${CSV_COLUMNS.join(', ')}`);
  }
  if (!columns.includes('email')) throw new CsvHeaderError('the CSV header needs an email column');
  return columns as Column[];
}

export function toRow(columns: Column[], fields: string[]): CsvRow {
  if (fields.length !== columns.length) {
    throw new Error(`expected ${columns.length} fields, found ${fields.length}`);
  }
  const row: CsvRow = {};
  columns.forEach((column, i) => {
    row[column] = fields[i];
  });
  return row;
}

/** The customer a group of rows stands for, as the JSON Lines format would write it. */
export function rowsToRecord(rows: CsvRow[]): Record<string, unknown> {
  const [first] = rows;
  if (!first) throw new Error('no rows');
  const customer: Record<string, unknown> = {};
  set(customer, 'id', first.customer_id);
  set(customer, 'email', first.email);
  set(customer, 'name', first.name);
  setJson(customer, 'metadata', first.customer_metadata, 'customer_metadata');
  set(customer, 'created_at', first.customer_created_at);
  set(customer, 'updated_at', first.customer_updated_at);
  const identities: Record<string, unknown>[] = [];
  for (const row of rows) {
    if (!row.channel && !row.external_id) continue;
    const identity: Record<string, unknown> = {};
    set(identity, 'id', row.identity_id);
    set(identity, 'channel', row.channel ?? '');
    set(identity, 'external_id', row.external_id ?? '');
    set(identity, 'instance_id', row.instance_id);
    set(identity, 'display_name', row.display_name);
    set(identity, 'role_override', row.role_override);
    if (row.verified) identity.verified = parseBoolean(row.verified);
    set(identity, 'verified_at', row.verified_at);
    set(identity, 'verified_via', row.verified_via);
    // Aliases are external ids of one channel, which hold no spaces: one cell, space-separated.
    if (row.aliases?.trim()) identity.aliases = row.aliases.trim().split(/\s+/);
    setJson(identity, 'metadata', row.identity_metadata, 'identity_metadata');
    set(identity, 'created_at', row.identity_created_at);
    set(identity, 'updated_at', row.identity_updated_at);
    identities.push(identity);
  }
  customer.identities = identities;
  return customer;
}

/** An empty cell is an absent field (so the default applies), never an empty string. */
function set(target: Record<string, unknown>, key: string, value: string | undefined) {
  if (value !== undefined && value !== '') target[key] = value;
}

function setJson(target: Record<string, unknown>, key: string, value: string | undefined, column: string) {
  if (value === undefined || value === '') return;
  try {
    target[key] = JSON.parse(value);
  } catch {
    throw new Error(`${column}: not valid JSON`);
  }
}

function parseBoolean(text: string): boolean | string {
  const t = text.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(t)) return true;
  if (['false', '0', 'no'].includes(t)) return false;
  return text; // left as text, so that validation reports it as not a boolean
}
