import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Random } from '../../internal/clock.js';

/** Capitals and digits without look-alikes (no 0, O, 1, I, L): 31 symbols, 6 of them ≈ 29.7 bits. */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const CODE_LENGTH = 6;
/** Failed attempts after which a code is void. */
export const MAX_ATTEMPTS = 5;
/** The role a successful claim grants. */
export const CLAIMED_ROLE = 'owner';

export function generateCode(random: Random): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[random.int(CODE_ALPHABET.length)];
  return code;
}

/** What a person typed, as a code: case-insensitive, spaces and hyphens ignored. */
export const normalizeCodeInput = (input: string) => input.replace(/[\s-]+/g, '').toUpperCase();

/** Bound to the identity, so that equal codes of two identities do not share a hash. */
export const hashCode = (secret: string, identityId: string, code: string) =>
  createHmac('sha256', secret).update(`${identityId}:${code}`).digest('hex');

export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function describeDuration(seconds: number): string {
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

export const claimInstructions = (code: string, channel: string, ttlSeconds: number) =>
  `Send /claim ${code} to the bot on ${channel} within ${describeDuration(ttlSeconds)}.`;

export interface ClaimCode {
  code: string;
  expires_in_seconds: number;
  identity_id: string;
  instructions: string;
}
