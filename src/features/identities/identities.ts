import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { FieldError } from '../../internal/errors.js';
import type { IdentityRow, LookupRow } from './identities.table.js';

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

export const VERIFIED_VIA = ['operator', 'claim_code', 'platform', 'link_request', 'linked_identity'] as const;
export type VerifiedVia = (typeof VERIFIED_VIA)[number];

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
/** One channel identity as text, for maps: (channel, external_id), all its instance scopes together. */
export const identityKeyText = (channel: string, externalId: string) => `${channel}\u0000${externalId}`;

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

/**
 * How identities are read besides their own text: the region in which a phone number written
 * without `+` and without a country code is read (DEFAULT_PHONE_REGION; see config.ts), and how
 * many one customer may have (MAX_IDENTITIES_PER_CUSTOMER).
 */
export interface IdentityRules {
  defaultPhoneRegion?: CountryCode | undefined;
  maxIdentitiesPerCustomer?: number | undefined;
  /** BLOCKED_EXTERNAL_IDS, compiled (see config.ts): ids refused like placeholders. */
  blockedExternalIds?: readonly RegExp[] | undefined;
}

/** MAX_IDENTITIES_PER_CUSTOMER's default. */
export const DEFAULT_MAX_IDENTITIES_PER_CUSTOMER = 100;

/**
 * The one rule on how many identities a customer holds, for every write that adds some (a link, a
 * move, a merge, an import line): why `adding` more to a customer that has `having` is refused,
 * or undefined when they fit.
 */
export function identityLimitProblem(limit: number, having: number, adding: number): string | undefined {
  const total = having + adding;
  if (adding <= 0 || total <= limit) return undefined;
  return `the customer would have ${total} identities; at most ${limit} are allowed (MAX_IDENTITIES_PER_CUSTOMER)`;
}

export interface PhoneReadingOptions {
  /** Region for numbers written nationally, e.g. `US` reads `(310) 555-1234` as +13105551234. */
  defaultRegion?: CountryCode | undefined;
  /** The writer always writes international numbers, without `+` (WhatsApp's `from`). */
  bareIsInternational?: boolean | undefined;
}

/** An E.164 number, or why the text cannot be read as one without dropping or changing a digit. */
export type PhoneReading = { e164: string; refusal?: undefined } | { e164?: undefined; refusal: string };

/** Digits and the separators people write between them; anything else is not a phone number. */
const PHONE_TEXT = /^\+?[0-9 ().\-/]+$/;
const EXAMPLE = 'e.g. +14155552671 or +1 (415) 555-2671';

/**
 * Reads a phone number as E.164 and never drops or changes a digit: every digit written is in
 * the result (bar the national trunk prefix of a number read in its region, which E.164 leaves
 * out), or the number is refused. With `+` or `00` the country code is the one written; a
 * conventional `(0)` after it (`+44 (0)20 …`) is the trunk prefix and left out. Without either,
 * the digits must be a valid international number as they stand (WhatsApp's `14155552671`) or a
 * valid number of `defaultRegion`; when both readings are valid and differ, it is refused as
 * ambiguous rather than guessed.
 */
export function readPhoneNumber(raw: string, options: PhoneReadingOptions = {}): PhoneReading {
  let text = raw.trim().replace(/\s+/g, ' ');
  const written = text.startsWith('+') || text.startsWith('00');
  if (written) text = `+${text.replace(/^(\+|00)/, '').replaceAll('(0)', '')}`;
  const digits = text.replace(/[^0-9]/g, '');
  if (!PHONE_TEXT.test(text) || digits.length === 0 || digits.length > 17) {
    return { refusal: `must be a phone number in international format, ${EXAMPLE}` };
  }
  const international = parsePhoneNumberFromString(`+${digits}`);
  const keepsDigits = international !== undefined && international.number === `+${digits}`;
  if (written || options.bareIsInternational) {
    if (!international?.isPossible()) return { refusal: `must be a phone number in international format, ${EXAMPLE}` };
    if (!keepsDigits) {
      return {
        refusal: `would lose a digit when read as +${international.countryCallingCode} ${international.nationalNumber}: write the number after the country code without its national prefix, ${EXAMPLE}`,
      };
    }
    return { e164: international.number };
  }
  const asInternational = keepsDigits && international.isValid() ? international : undefined;
  const region = options.defaultRegion;
  const national = region === undefined ? undefined : parsePhoneNumberFromString(text, region);
  // In its region a number may drop its trunk prefix (the 0 of 020 …), never change the rest.
  const asNational = national?.isValid() && digits.endsWith(national.nationalNumber) ? national : undefined;
  if (asInternational && asNational && asInternational.number !== asNational.number) {
    return {
      refusal: `is ambiguous without + (${asInternational.formatInternational()} or ${asNational.formatInternational()}): write it with + and the country code, ${EXAMPLE}`,
    };
  }
  const e164 = (asNational ?? asInternational)?.number;
  if (e164) return { e164 };
  return {
    refusal:
      region === undefined
        ? `has no + and is not a complete international number: write it with + and the country code, ${EXAMPLE}`
        : `is neither a valid ${region} number nor a complete international number: write it with + and the country code, ${EXAMPLE}`,
  };
}

/** A phone number in E.164, or undefined when it cannot be read as one (see readPhoneNumber). */
export function toE164(raw: string, options: PhoneReadingOptions = {}): string | undefined {
  return readPhoneNumber(raw, options).e164;
}

/**
 * Characters that make two ids look the same while they differ, or that hide text: controls
 * (C0, DEL, C1), format characters (zero-width space/joiners, BOM, soft hyphen, word joiner,
 * every bidirectional mark, embedding, override and isolate), line and paragraph separators,
 * spaces other than U+0020 (no-break, thin, ideographic …), and lone surrogates.
 */
const LOOKALIKE_OR_HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]|(?! )\p{Zs}/u;

const codePoint = (char: string) => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Free-form text of an id in one form: Unicode NFC, without characters that hide or mimic others. */
function canonicalText(text: string, loc: Loc): string {
  const found = LOOKALIKE_OR_HIDDEN.exec(text);
  if (found) {
    throw new FieldError(
      [...loc],
      `Value error, external_id must not contain control, invisible (zero-width), bidirectional-control or non-standard space characters (found ${codePoint(found[0])})`,
    );
  }
  return text.normalize('NFC');
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

/**
 * `external_id`: trimmed, 1..255 characters, then per channel (see CONTRACT.md). `rules` says
 * how phone numbers written without a country code are read.
 */
export function normalizeExternalId(channel: string, raw: string, loc: Loc, rules: IdentityRules = {}): string {
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
  // Discord's user ids are snowflakes: positive 64-bit integers, written in decimal.
  if (channel === 'discord') {
    if (!/^\d{1,20}$/.test(text) || /^0+$/.test(text)) {
      throw new FieldError(
        [...loc],
        'Value error, a discord external_id must be a Discord user id (a positive integer)',
      );
    }
    return BigInt(text).toString();
  }
  if (channel === 'whatsapp') {
    const bsuid = toBsuid(text);
    if (bsuid) return bsuid;
  }
  if (PHONE_CHANNELS.has(channel)) {
    const reading = readPhoneNumber(text, { defaultRegion: rules.defaultPhoneRegion });
    if (reading.refusal !== undefined) {
      throw new FieldError([...loc], `Value error, a ${channel} external_id ${reading.refusal}`);
    }
    return reading.e164;
  }
  const canonical = canonicalText(text, loc);
  if (canonical.length > 255) {
    throw new FieldError([...loc], 'String should have at most 255 characters', 'string_too_long');
  }
  // Case folding can leave text that is not NFC (a capital with a combining mark): NFC once more.
  if (channel === 'email') return canonical.toLowerCase().normalize('NFC');
  if (channel === 'slack') return canonical.toUpperCase().normalize('NFC');
  return canonical;
}

/** The normalized pair, with errors located at the caller's fields. */
export function normalizeIdentityKey(
  input: { channel: string; external_id: string },
  where: 'body' | 'query',
  rules: IdentityRules = {},
): { channel: string; external_id: string } {
  const channel = normalizeChannel(input.channel, [where, 'channel']);
  return { channel, external_id: normalizeExternalId(channel, input.external_id, [where, 'external_id'], rules) };
}

/** What clients send when they have no id (`String(undefined)`, a default of -1, an empty GUID …). */
export const PLACEHOLDER_EXTERNAL_IDS: readonly string[] = [
  'null',
  'undefined',
  'none',
  'nil',
  'nan',
  'unknown',
  'anonymous',
  '[object object]',
  '-1',
];
const PLACEHOLDERS = new Set(PLACEHOLDER_EXTERNAL_IDS);
const ZEROS_AND_DASHES = /^[0-]+$/;

/**
 * Refuses (422 `value_error` at `loc`) a normalized external id that stands for no one: a
 * placeholder (see PLACEHOLDER_EXTERNAL_IDS, any case), an id made only of zeros and dashes, or
 * one BLOCKED_EXTERNAL_IDS matches. Linked, such an id would make one customer of everyone whose
 * runtime sent it. Every way an id gets linked or looked up calls this (create, alias, link
 * request, import, the lookup's miss); removing an alias does not, so that one stored before the
 * rule can still go.
 */
export function refusePlaceholderExternalId(externalId: string, loc: Loc, rules: IdentityRules = {}): void {
  const folded = externalId.toLowerCase();
  if (PLACEHOLDERS.has(folded) || ZEROS_AND_DASHES.test(folded)) {
    throw new FieldError(
      [...loc],
      `Value error, external_id ${JSON.stringify(externalId)} is a placeholder, not an id: send the account's real id`,
    );
  }
  for (const blocked of rules.blockedExternalIds ?? []) {
    if (blocked.test(externalId)) {
      throw new FieldError([...loc], 'Value error, external_id is blocked by this service (BLOCKED_EXTERNAL_IDS)');
    }
  }
}
