import { Ajv, type ErrorObject, type Options } from 'ajv';
import { addJsonLimitKeywords } from './json-limits.js';
import { addLaxBooleanKeyword, laxBooleans } from './lax-boolean.js';

/**
 * Python's uuid.UUID accepts these spellings; we store the canonical lowercase hyphenated form.
 * Returns undefined when the text is not a UUID.
 */
export function canonicalUuid(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^urn:uuid:/i, '')
    .replace(/^\{(.*)\}$/, '$1')
    .replaceAll('-', '')
    .toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    useDefaults: true,
    removeAdditional: true,
    strict: false,
    ...options,
  });
  // `format` documents the type in OpenAPI; the checks are the keywords below, which can also
  // rewrite the value (a UUID to its canonical form) and report pydantic's error types.
  for (const format of ['uuid', 'email', 'date-time']) ajv.addFormat(format, true);
  ajv.addKeyword({
    keyword: 'x-uuid',
    modifying: true,
    errors: true,
    validate: function uuid(
      _schema: unknown,
      data: unknown,
      _parent: unknown,
      cxt?: { parentData: any; parentDataProperty: string | number },
    ) {
      if (typeof data !== 'string') return true;
      const canonical = canonicalUuid(data);
      if (canonical === undefined) {
        (uuid as unknown as { errors: Partial<ErrorObject>[] }).errors = [
          { keyword: 'x-uuid', message: 'invalid', params: {} },
        ];
        return false;
      }
      if (cxt && cxt.parentData !== undefined) cxt.parentData[cxt.parentDataProperty] = canonical;
      return true;
    },
  });
  ajv.addKeyword({
    keyword: 'x-email',
    errors: true,
    validate: function email(_schema: unknown, data: unknown) {
      if (typeof data !== 'string') return true;
      const ok = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(data.trim()) && data.length <= 320;
      if (!ok) {
        (email as unknown as { errors: Partial<ErrorObject>[] }).errors = [
          { keyword: 'x-email', message: 'invalid', params: {} },
        ];
      }
      return ok;
    },
  });
  addJsonLimitKeywords(ajv);
  addLaxBooleanKeyword(ajv);
  return ajv;
}

/** Fastify's validator compiler's shape, without importing the web framework into the features. */
export type ValidatorCompiler = (route: {
  schema: unknown;
  httpPart?: string;
  method?: string;
  url?: string;
}) => Validator;

/**
 * JSON bodies are checked strictly, as pydantic does (a number is not a string; booleans are read
 * as in its lax mode, see lax-boolean.ts); query strings,
 * path parameters and headers arrive as text and are coerced (limit=10 is an integer).
 */
export function createValidatorCompiler(): ValidatorCompiler {
  const strict = makeAjv({ coerceTypes: false });
  const coercing = makeAjv({ coerceTypes: true });
  return ({ schema, httpPart }) =>
    refusingNul(
      httpPart === 'body' ? strict.compile(laxBooleans(schema) as object) : coercing.compile(schema as object),
    );
}

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** The JSON pointer of the first string (value or key) in `data` that holds U+0000, if any. */
function findNul(data: unknown): string | undefined {
  return nulPath(data)
    ?.map((part) => `/${part.replaceAll('~', '~0').replaceAll('/', '~1')}`)
    .join('');
}

/** The keys down to the first U+0000 (built only when there is one: this runs on every request). */
function nulPath(data: unknown): string[] | undefined {
  if (typeof data === 'string') return data.includes('\u0000') ? [] : undefined;
  if (data === null || typeof data !== 'object') return undefined;
  for (const key in data) {
    if (key.includes('\u0000')) return [key];
    const below = nulPath((data as Record<string, unknown>)[key]);
    if (below !== undefined) {
      below.unshift(key);
      return below;
    }
  }
  return undefined;
}

/**
 * PostgreSQL cannot store U+0000 in text or jsonb (SQLite can), so a request that carries one is
 * refused on both stores alike, as a validation error, before anything reads or writes it.
 */
function refusingNul(validate: Validator): Validator {
  const checked: Validator = (data) => {
    if (!validate(data)) {
      checked.errors = validate.errors;
      return false;
    }
    const at = findNul(data);
    if (at === undefined) {
      checked.errors = null;
      return true;
    }
    checked.errors = [
      {
        keyword: 'x-no-nul',
        instancePath: at,
        schemaPath: '#',
        message: 'must not contain the NUL character (U+0000)',
        params: {},
      },
    ];
    return false;
  };
  return checked;
}
