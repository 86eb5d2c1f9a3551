import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, generateCode, normalizeCodeInput } from '../../src/features/claims/claims.js';
import {
  type IdentityRules,
  normalizeChannel,
  normalizeExternalId,
  readPhoneNumber,
} from '../../src/features/identities/identities.js';
import { FieldError } from '../../src/internal/errors.js';

// Pure rules, checked on many inputs: what the create stores, the lookup and the claim must find.

const CHANNELS = ['telegram', 'whatsapp', 'sms', 'phone', 'email', 'slack', 'discord', 'mastodon'];
const loc = ['body', 'external_id'] as const;

/** The normalized form, or undefined when the rule refuses the input (always with a FieldError). */
function tryNormalize(channel: string, raw: string, rules: IdentityRules = {}): string | undefined {
  try {
    return normalizeExternalId(channel, raw, loc, rules);
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

  it('takes discord ids as positive integers of at most 20 digits, leading zeros dropped', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), fc.nat({ max: 3 }), (n, zeros) => {
        const written = `${'0'.repeat(zeros)}${n}`;
        expect(tryNormalize('discord', ` ${written} `)).toBe(written.length <= 20 ? n.toString() : undefined);
      }),
    );
    for (const wrong of ['0', '000', '-5', '12a', '1e5', '１２３', `1${'0'.repeat(20)}`]) {
      expect(tryNormalize('discord', wrong), wrong).toBeUndefined();
    }
  });

  it('refuses what is empty after trimming and what is longer than 255', () => {
    for (const channel of CHANNELS) {
      expect(tryNormalize(channel, '   ')).toBeUndefined();
      expect(tryNormalize(channel, '9'.repeat(256))).toBeUndefined();
    }
  });
});

const US: IdentityRules = { defaultPhoneRegion: 'US' };
const digitsOf = (text: string) => text.replace(/\D/g, '');
/** Phone-like text: digits with the separators people type, sometimes after + or 00. */
const phoneText = fc
  .tuple(
    fc.constantFrom('', '+', '00', ' +'),
    fc.array(fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', '-', '(', ')', '.'), {
      minLength: 1,
      maxLength: 18,
    }),
  )
  .map(([lead, chars]) => `${lead}${chars.join('')}`);

describe('phone numbers', () => {
  it('never drops or changes a digit: every digit written is in the E.164 number, or it is refused', () => {
    fc.assert(
      fc.property(
        fc.oneof(phoneText, fc.constant('+44 (0)20 7946 0958')),
        fc.constantFrom('whatsapp', 'sms', 'phone'),
        (raw, channel) => {
          const out = tryNormalize(channel, raw);
          if (out === undefined) return;
          const written = raw.trim();
          // After + or 00, a literal (0) is the trunk prefix that E.164 leaves out (+44 (0)20 …).
          const international = /^(\+|00)/.test(written);
          const digits = digitsOf(international ? written.replaceAll('(0)', '') : written);
          expect(out).toBe(`+${international ? digits.replace(/^00/, '') : digits}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('in DEFAULT_PHONE_REGION, keeps every digit after the trunk prefix and never reads another country by guess', () => {
    fc.assert(
      fc.property(phoneText, (raw) => {
        const out = tryNormalize('sms', raw, US);
        if (out === undefined) return;
        const written = raw.trim();
        if (written.startsWith('+') || written.startsWith('00')) {
          expect(out).toBe(`+${digitsOf(written.replace(/^(\+|00)/, '').replaceAll('(0)', ''))}`);
        } else if (!out.startsWith('+1')) {
          // Another country only when the digits say so: all of them as an international number,
          // or after the international dialing prefix 011.
          expect([`+${digitsOf(written)}`, `+${digitsOf(written).replace(/^011/, '')}`]).toContain(out);
        } else {
          expect(digitsOf(written).endsWith(out.slice(2))).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a national number without a region, instead of reading its digits as another country', () => {
    // Read as +31 5551234 (a digit gone, the Netherlands) and +20 25551234 (Egypt) before.
    for (const raw of ['3105551234', '2025551234', '(310) 555-1234', '310-555-1234']) {
      const reading = readPhoneNumber(raw);
      expect(reading.e164).toBeUndefined();
      expect(reading.refusal).toMatch(/with \+ and the country code, e\.g\. \+14155552671/);
      expect(() => normalizeExternalId('sms', raw, loc)).toThrow(/a sms external_id has no \+/);
    }
  });

  it('reads a national number in DEFAULT_PHONE_REGION', () => {
    expect(tryNormalize('sms', '3105551234', US)).toBe('+13105551234');
    expect(tryNormalize('sms', '(202) 555-1234', US)).toBe('+12025551234');
    expect(tryNormalize('phone', '1 415 555 2671', US)).toBe('+14155552671');
    expect(tryNormalize('sms', '020 7946 0958', { defaultPhoneRegion: 'GB' })).toBe('+442079460958');
    expect(tryNormalize('sms', '020 7946 0958', US)).toBeUndefined();
  });

  it("takes a bare complete international number as it stands (WhatsApp's 14155552671)", () => {
    expect(tryNormalize('whatsapp', '14155552671')).toBe('+14155552671');
    expect(tryNormalize('whatsapp', '442079460958')).toBe('+442079460958');
    expect(tryNormalize('whatsapp', '442079460958', US)).toBe('+442079460958');
    // A platform that always writes international numbers may send one that is only possible.
    expect(readPhoneNumber('447700900123').e164).toBeUndefined();
    expect(readPhoneNumber('447700900123', { bareIsInternational: true }).e164).toBe('+447700900123');
  });

  it('refuses, naming both readings, a bare number valid both in the region and as an international number', () => {
    const reading = readPhoneNumber('2015853415', { defaultRegion: 'US' });
    expect(reading.e164).toBeUndefined();
    expect(reading.refusal).toContain('+20 15 853415');
    expect(reading.refusal).toContain('+1 201 585 3415');
    expect(tryNormalize('sms', '+1 201 585 3415', US)).toBe('+12015853415');
  });

  it('refuses a written country code followed by a trunk prefix, but takes the conventional (0)', () => {
    expect(readPhoneNumber('+3105551234').refusal).toMatch(/would lose a digit when read as \+31 5551234/);
    expect(tryNormalize('sms', '+44 (0)20 7946 0958')).toBe('+442079460958');
    expect(tryNormalize('sms', '0044 20 7946 0958')).toBe('+442079460958');
    expect(tryNormalize('sms', '+39 06 1234 5678')).toBe('+390612345678');
  });

  it('refuses letters and other text around a number', () => {
    for (const raw of ['tel:+14155552671', '+1 800 FLOWERS', '+1 415 555 2671 ext. 12', '+١٤١٥٥٥٥٢٦٧١']) {
      expect(tryNormalize('phone', raw)).toBeUndefined();
    }
  });

  it('is idempotent with a region too', () => {
    fc.assert(
      fc.property(phoneText, (raw) => {
        const once = tryNormalize('sms', raw, US);
        if (once !== undefined) expect(normalizeExternalId('sms', once, loc, US)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('free-form external ids', () => {
  const FREE_FORM = ['mastodon', 'email', 'slack', 'matrix'];

  it('are the same in every Unicode composition (NFC)', () => {
    expect(tryNormalize('mastodon', 'Cafe\u0301')).toBe('Caf\u00e9');
    expect(tryNormalize('email', 'JOSE\u0301@EXAMPLE.COM')).toBe('jos\u00e9@example.com');
    expect(tryNormalize('slack', 'u\u0308ser')).toBe('\u00dcSER');
    fc.assert(
      fc.property(fc.constantFrom(...FREE_FORM), fc.string({ unit: 'grapheme', maxLength: 20 }), (channel, raw) => {
        const composed = tryNormalize(channel, raw.normalize('NFC'));
        const decomposed = tryNormalize(channel, raw.normalize('NFD'));
        expect(decomposed).toBe(composed);
        if (composed !== undefined) expect(composed.normalize('NFC')).toBe(composed);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['a zero-width space', 'steve\u200b', 'U+200B'],
    ['a zero-width joiner', 'ste\u200dve', 'U+200D'],
    ['a right-to-left override', 'evil\u202Egnp.exe', 'U+202E'],
    ['a left-to-right isolate', 'a\u2066b', 'U+2066'],
    ['a right-to-left mark', 'a\u200Fb', 'U+200F'],
    ['a control character', 'bell\u0007', 'U+0007'],
    ['a C1 control', 'a\u0085b', 'U+0085'],
    ['a no-break space', 'steve\u00a0smith', 'U+00A0'],
    ['a soft hyphen', 'ste\u00adve', 'U+00AD'],
    ['a lone surrogate', 'a\ud800b', 'U+D800'],
    ['a line separator', 'a\u2028b', 'U+2028'],
  ])('are refused with %s in them, on every free-form channel', (_what, raw, codePoint) => {
    for (const channel of FREE_FORM) {
      expect(() => normalizeExternalId(channel, raw, loc)).toThrow(
        expect.objectContaining({
          loc: ['body', 'external_id'],
          type: 'value_error',
          msg: expect.stringContaining(`(found ${codePoint})`),
        }),
      );
    }
  });

  it('keep ordinary text as trimmed, spaces, emoji and scripts included', () => {
    expect(tryNormalize('mastodon', '  MixedCase#1 ')).toBe('MixedCase#1');
    expect(tryNormalize('matrix', '@steve smith:例え.jp')).toBe('@steve smith:例え.jp');
    expect(tryNormalize('mastodon', 'cat 🐈')).toBe('cat 🐈');
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
