import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, generateCode, normalizeCodeInput } from '../../src/features/claims/claims.js';
import { normalizeChannel, normalizeExternalId } from '../../src/features/identities/identities.js';
import { FieldError } from '../../src/internal/errors.js';

// Pure rules, checked on many inputs: what the create stores, the lookup and the claim must find.

const CHANNELS = ['telegram', 'whatsapp', 'sms', 'phone', 'email', 'slack', 'discord'];
const loc = ['body', 'external_id'] as const;

/** The normalized form, or undefined when the rule refuses the input (always with a FieldError). */
function tryNormalize(channel: string, raw: string): string | undefined {
  try {
    return normalizeExternalId(channel, raw, loc);
  } catch (error) {
    expect(error).toBeInstanceOf(FieldError);
    return undefined;
  }
}

describe('external_id normalization', () => {
  it('is idempotent on every channel: a stored id looks itself up', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CHANNELS), fc.string({ maxLength: 40 }), (channel, raw) => {
        const once = tryNormalize(channel, raw);
        if (once !== undefined) expect(normalizeExternalId(channel, once, loc)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads any spelling of a US number as the same E.164 number', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: 999 }),
        fc.integer({ min: 0, max: 9_999 }),
        fc.constantFrom('+1 (415) {a}-{b}', '+1415{a}{b}', '+1-415-{a}-{b}', ' +1 415 {a} {b} ', '001415{a}{b}'),
        fc.constantFrom('whatsapp', 'sms', 'phone'),
        (a, b, format, channel) => {
          const raw = format.replace('{a}', String(a)).replace('{b}', String(b).padStart(4, '0'));
          const expected = `+1415${a}${String(b).padStart(4, '0')}`;
          expect(tryNormalize(channel, raw)).toBe(expected);
        },
      ),
    );
  });

  it('takes telegram ids as integers, negative ones too', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (n) => {
        expect(tryNormalize('telegram', ` ${n} `)).toBe(n.toString());
      }),
    );
    expect(tryNormalize('telegram', '12a')).toBeUndefined();
  });

  it('refuses what is empty after trimming and what is longer than 255', () => {
    for (const channel of CHANNELS) {
      expect(tryNormalize(channel, '   ')).toBeUndefined();
      expect(tryNormalize(channel, '9'.repeat(256))).toBeUndefined();
    }
  });
});

describe('channel normalization', () => {
  it('trims and lowercases, then accepts only the pattern', () => {
    expect(normalizeChannel('  WhatsApp\t', ['body', 'channel'])).toBe('whatsapp');
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (raw) => {
        let out: string | undefined;
        try {
          out = normalizeChannel(raw, ['body', 'channel']);
        } catch (error) {
          expect(error).toMatchObject({ type: 'string_pattern_mismatch', loc: ['body', 'channel'] });
          return;
        }
        expect(out).toMatch(/^[a-z][a-z0-9_-]{0,31}$/);
        expect(out).toBe(raw.trim().toLowerCase());
      }),
    );
  });
});

describe('claim codes', () => {
  it('draws from the alphabet without look-alikes', () => {
    expect(CODE_ALPHABET).not.toMatch(/[0O1IL]/);
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (draws) => {
        let i = 0;
        const code = generateCode({ int: (max) => (draws[i++] as number) % max, bytes: () => Buffer.alloc(0) });
        expect(code).toMatch(/^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$/);
      }),
    );
  });

  it('reads typed input case-insensitively, without spaces and hyphens', () => {
    const typed = fc.array(fc.constantFrom(...CODE_ALPHABET), { minLength: 6, maxLength: 6 }).chain((chars) =>
      fc
        .array(fc.tuple(fc.boolean(), fc.constantFrom('', ' ', '-', ' - ')), { minLength: 6, maxLength: 6 })
        .map((decor) => ({
          code: chars.join(''),
          input: chars.map((c, i) => `${decor[i]?.[1]}${decor[i]?.[0] ? c.toLowerCase() : c}`).join(''),
        })),
    );
    fc.assert(
      fc.property(typed, ({ code, input }) => {
        expect(normalizeCodeInput(input)).toBe(code);
      }),
    );
  });
});

describe("WhatsApp's business-scoped user ids", () => {
  it.each([
    ['us.13491208655302741918', 'US.13491208655302741918'],
    [' US.ENT.11815799212886844830 ', 'US.ENT.11815799212886844830'],
    ['br.AbC123', 'BR.AbC123'],
  ])('keeps %j as given, country prefix uppercased: %j', (raw, want) => {
    expect(normalizeExternalId('whatsapp', raw, ['body', 'external_id'])).toBe(want);
  });

  it.each(['US.', 'USA.123', 'U.123', 'US.abc-def', `US.${'1'.repeat(129)}`])(
    'refuses %j (neither a BSUID nor a phone number)',
    (raw) => {
      expect(() => normalizeExternalId('whatsapp', raw, ['body', 'external_id'])).toThrow(FieldError);
    },
  );

  it('is a BSUID on whatsapp only: on sms it must still be a phone number', () => {
    expect(() => normalizeExternalId('sms', 'US.123', ['body', 'external_id'])).toThrow(FieldError);
  });
});
