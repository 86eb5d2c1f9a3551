import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { type PreparedRecord, prepareRecords } from '../../src/features/data/data-record.js';
import { fromWire, toWire } from '../../src/features/data/record-wire.js';
import type { SourceRecord } from '../../src/features/data/source-reader.js';

async function prepared(values: unknown[]): Promise<PreparedRecord[]> {
  async function* source(): AsyncGenerator<SourceRecord> {
    for (const [i, value] of values.entries()) yield { line: i + 1, lastLine: i + 1, value };
    yield { line: values.length + 1, lastLine: values.length + 2, error: 'Unexpected token } in JSON' };
  }
  const out: PreparedRecord[] = [];
  for await (const record of prepareRecords(source(), () => '2026-12-04T10:00:00.000Z')) out.push(record);
  return out;
}

describe('records between the import threads', () => {
  it('arrive as they were prepared, every field of every row, and a bad line with its reason', async () => {
    const records = await prepared([
      // Every field a line can carry, ids given.
      {
        id: '0193a0b0-0000-7000-8000-000000000001',
        email: 'Steve@Acme.com',
        name: 'Steve',
        metadata: { tier: 'gold' },
        created_at: '2026-01-02T03:04:05Z',
        updated_at: '2026-02-03T04:05:06+01:00',
        identities: [
          {
            id: '0193a0b0-0000-7000-8000-000000000002',
            channel: 'telegram',
            external_id: '12345',
            instance_id: '0193a0b0-0000-7000-8000-00000000000b',
            display_name: 'steve_tg',
            role_override: 'owner',
            verified: true,
            verified_via: 'claim_code',
            metadata: { source: 'crm' },
            aliases: ['67890'],
            created_at: '2026-01-02T03:04:05Z',
          },
          { channel: 'slack', external_id: 'U123' },
        ],
      },
      // The least a line can be.
      { email: 'anna@example.com' },
      // A line the checks refuse.
      { email: 'not an email' },
    ]);
    expect(records.map((r) => (r.prepared ? 'prepared' : 'error'))).toEqual(['prepared', 'prepared', 'error', 'error']);

    for (const record of records) {
      // As a worker's postMessage would carry it: through V8's structured clone.
      const wire = toWire(record);
      expect(() => serialize(wire)).not.toThrow();
      expect(fromWire(wire)).toStrictEqual(record);
    }
    // Only values travel: no object, so no property name, anywhere in what is sent.
    const hasObject = (value: unknown): boolean =>
      Array.isArray(value) ? value.some(hasObject) : value !== null && typeof value === 'object';
    expect(hasObject(toWire(records[0] as PreparedRecord))).toBe(false);
  });
});
