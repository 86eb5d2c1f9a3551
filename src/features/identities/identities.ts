import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { FieldError } from '../../internal/errors.js';
import type { LookupRow } from './identities.repository.js';
import type { IdentityRow } from './identities.table.js';

export interface Identity {
  id: string;
  customer_id: string;
  channel: string;
  external_id: string;
  instance_id: string | null;
  display_name: string | null;
  role_override: string | null;
  verified: boolean;
  verified_at: string | null;
  /** How the link was proven; null while unverified. */
  verified_via: VerifiedVia | null;
  /** Other external ids of the same account on this channel (normalized like external_id). */
  aliases: string[];
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export type VerifiedVia = 'operator' | 'claim_code' | 'platform';

/** What the agent runtime gets from the reverse lookup (the seed's body). */
export interface LookupResult {
  channel: string;
  customer_email: string;
  customer_id: string;
  display_name: string | null;
  external_id: string;
  identity_id: string;
  role_override: string | null;
  verified: boolean;
  verified_via: VerifiedVia | null;
}

/** With an instance id, the identity scoped to it wins, else the unscoped one; without, only the unscoped one. */
export function resolveScope<R extends { instance_id: string | null }>(
  rows: readonly R[],
  instanceId: string | undefined,
): R | undefined {
  const scoped = instanceId === undefined ? undefined : rows.find((r) => r.instance_id === instanceId);
  return scoped ?? rows.find((r) => r.instance_id === null);
}

/** The lookup's response body, as JSON text: what the cache keeps and the route sends. */
export function lookupAnswerJson(row: LookupRow): string {
  const answer: LookupResult = {
    channel: row.channel,
    customer_email: row.customer_email,
    customer_id: row.customer_id,
    display_name: row.display_name,
    external_id: row.external_id,
    identity_id: row.identity_id,
    role_override: row.role_override,
    verified: row.verified_at !== null,
    verified_via: row.verified_at === null ? null : ((row.verified_via as VerifiedVia | null) ?? 'operator'),
  };
  return JSON.stringify(answer);
}

/** The row as the API shows it; `aliases` come from identity_keys (see aliasesOf). */
export const toIdentity = (row: IdentityRow, aliases: readonly string[] = []): Identity => ({
  id: row.id,
  customer_id: row.customer_id,
  channel: row.channel,
  external_id: row.external_id,
  instance_id: row.instance_id,
  display_name: row.display_name,
  role_override: row.role_override,
  verified: row.verified_at !== null,
  verified_at: row.verified_at,
  verified_via: row.verified_at === null ? null : ((row.verified_via as VerifiedVia | null) ?? 'operator'),
  aliases: [...aliases],
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export const CHANNEL_PATTERN = '^[a-z][a-z0-9_-]{0,31}$';
const CHANNEL_RE = new RegExp(CHANNEL_PATTERN);
const PHONE_CHANNELS = new Set(['whatsapp', 'sms', 'phone']);

type Loc = readonly (string | number)[];

/** `channel`: trimmed, lowercased, then must match CHANNEL_PATTERN. */
export function normalizeChannel(raw: string, loc: Loc): string {
  const channel = raw.trim().toLowerCase();
  if (!CHANNEL_RE.test(channel)) {
    throw new FieldError([...loc], `String should match pattern '${CHANNEL_PATTERN}'`, 'string_pattern_mismatch');
  }
  return channel;
}

/** A phone number in E.164, or undefined when it cannot be parsed as one. */
export function toE164(raw: string): string | undefined {
  let text = raw.trim();
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  // WhatsApp sends numbers as bare digits ("14155552671"): read them as international.
  if (!text.startsWith('+')) text = `+${text}`;
  const phone = parsePhoneNumberFromString(text);
  return phone?.isPossible() ? phone.number : undefined;
}

/** WhatsApp's business-scoped user id (`US.1349…`, parent ids `US.ENT.…`): see CONTRACT.md. */
export const BSUID_PATTERN = '^[A-Za-z]{2}\\.(ENT\\.)?[A-Za-z0-9]{1,128}$';
const BSUID_RE = new RegExp(BSUID_PATTERN);

/** A BSUID kept as given, with its country prefix uppercased; undefined when it is not one. */
export function toBsuid(raw: string): string | undefined {
  const text = raw.trim();
  if (!BSUID_RE.test(text)) return undefined;
  return `${text.slice(0, 2).toUpperCase()}${text.slice(2)}`;
}

/** `external_id`: trimmed, 1..255 characters, then per channel (see CONTRACT.md). */
export function normalizeExternalId(channel: string, raw: string, loc: Loc): string {
  const text = raw.trim();
  if (text.length < 1) {
    throw new FieldError([...loc], 'String should have at least 1 character', 'string_too_short');
  }
  if (text.length > 255) {
    throw new FieldError([...loc], 'String should have at most 255 characters', 'string_too_long');
  }
  if (channel === 'telegram') {
    if (!/^-?\d{1,20}$/.test(text)) {
      throw new FieldError([...loc], 'Value error, a telegram external_id must be an integer chat id');
    }
    return BigInt(text).toString();
  }
  if (channel === 'whatsapp') {
    const bsuid = toBsuid(text);
    if (bsuid) return bsuid;
  }
  if (PHONE_CHANNELS.has(channel)) {
    const e164 = toE164(text);
    if (!e164) {
      throw new FieldError(
        [...loc],
        `Value error, a ${channel} external_id must be a phone number in international format, e.g. +14155552671`,
      );
    }
    return e164;
  }
  if (channel === 'email') return text.toLowerCase();
  if (channel === 'slack') return text.toUpperCase();
  return text;
}

/** The normalized pair, with errors located at the caller's fields. */
export function normalizeIdentityKey(
  input: { channel: string; external_id: string },
  where: 'body' | 'query',
): { channel: string; external_id: string } {
  const channel = normalizeChannel(input.channel, [where, 'channel']);
  return { channel, external_id: normalizeExternalId(channel, input.external_id, [where, 'external_id']) };
}
