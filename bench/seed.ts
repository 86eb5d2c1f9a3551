import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/**
 * The benchmark's data set: customers with two identities each (a Telegram chat id and a Slack
 * member id), written as JSON Lines for the import command. Telegram ids start high so that
 * `TELEGRAM_MISS_BASE + i` is never seeded: the miss scenario draws from there.
 */
export const TELEGRAM_BASE = 100_000_000;
export const TELEGRAM_MISS_BASE = 900_000_000;

export interface SeedKey {
  channel: string;
  externalId: string;
}

/** The external id of seeded identity `i` (0-based), as lookup requests ask for it. */
export function seededKey(i: number): SeedKey {
  const customer = Math.floor(i / 2);
  return i % 2 === 0
    ? { channel: 'telegram', externalId: String(TELEGRAM_BASE + customer) }
    : { channel: 'slack', externalId: `U${(customer + 1).toString(36).toUpperCase().padStart(8, '0')}` };
}

/** Writes `identities` identities (rounded up to an even number) and returns the customer count. */
export async function writeSeedFile(path: string, identities: number): Promise<number> {
  const customers = Math.ceil(identities / 2);
  const out = createWriteStream(path);
  const stamp = '2026-01-01T00:00:00.000Z';
  let buffer = '';
  for (let c = 0; c < customers; c++) {
    const telegram = seededKey(c * 2);
    const slack = seededKey(c * 2 + 1);
    buffer += `${JSON.stringify({
      email: `customer${c}@bench.example`,
      name: `Customer ${c}`,
      metadata: { plan: c % 3 === 0 ? 'pro' : 'free' },
      created_at: stamp,
      identities: [
        { channel: telegram.channel, external_id: telegram.externalId, display_name: `tg ${c}`, verified: c % 2 === 0 },
        { channel: slack.channel, external_id: slack.externalId, role_override: c % 10 === 0 ? 'owner' : null },
      ],
    })}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
  return customers;
}

/**
 * Unverified identities that only the claim scenario uses (each chain verifies one for good), for
 * runs whose seed has too few of its own: channel `benchclaim`, outside the lookup key space.
 */
export async function writeClaimPoolFile(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  let buffer = '';
  for (let c = 0; c < count; c++) {
    buffer += `${JSON.stringify({
      email: `claimer${c}@bench.example`,
      identities: [{ channel: 'benchclaim', external_id: `c${c}` }],
    })}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
