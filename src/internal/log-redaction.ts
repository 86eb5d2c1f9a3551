/**
 * What an error may say in a log line. Errors carry more than their author meant: grammY's
 * HttpError wraps a fetch error whose message holds the request URL `…/bot<TOKEN>/sendMessage`, its
 * BotError holds the whole update (the sender's name) and the API client (the token), PostgreSQL's
 * errors hold the failing row in `detail`, a platform's error body may quote a phone number. So an
 * error is written as a few known fields, every string of which is scrubbed of the configured
 * secrets and of anything shaped like a secret, an email address or a phone number.
 */

const CENSORED = '[redacted]';

/** Fields worth keeping from an error besides its message and stack; none of them holds a person's value. */
const KEPT_FIELDS = [
  'code',
  'errno',
  'syscall',
  'hostname',
  'address',
  'port',
  'status',
  'statusCode',
  'severity',
  'constraint',
  'table',
  'column',
  'schema',
  'routine',
  'method',
  'error_code',
  'description',
] as const;

/** Nested errors: `cause` (fetch, Node), `error` (grammY's HttpError and BotError), `errors` (AggregateError). */
const MAX_DEPTH = 5;

/** Shapes that are secrets whatever their value: a Bot API path, a URL's user info, a bearer token. */
const SECRET_SHAPES: [RegExp, string][] = [
  [/\/bot\d+:[\w-]+/g, `/bot${CENSORED}`],
  [/(\/\/)[^\s/@:]*:[^\s/@]*@/g, `$1${CENSORED}@`],
  [/\b(Bearer|Basic)\s+[\w.~+/-]+=*/gi, `$1 ${CENSORED}`],
  [/([?&](?:access_token|token|key|secret|password|signature)=)[^&\s"']+/gi, `$1${CENSORED}`],
];

/** A person's values, wherever a message quotes them. */
const PERSONAL_SHAPES: [RegExp, string | ((match: string) => string)][] = [
  [/[^\s@"'<>(),;:[\]]+@[^\s@"'<>(),;:[\]]+\.[A-Za-z]{2,}/g, '[email]'],
  // 7 to 15 digits, maybe spaced (E.164 and national forms); not part of an id, an address or a
  // path. The example our own messages give (+1 415 555 2671, a fictional number) stays.
  [
    /(?<![\w.:/-])\+?\d(?:[ ()-]{0,2}\d){6,14}(?![\w./-])/g,
    (match) => (match.replace(/\D/g, '') === '14155552671' ? match : '[number]'),
  ],
  // PostgreSQL quotes the value it could not take at the end of its message (`…: "steve@acme.com"`).
  [/(invalid input (?:syntax|value) for [^:]*: )".*"/g, `$1"${CENSORED}"`],
];

const SECRET_NAME = /token|secret|password|passphrase|api_?key|apikey|bootstrap/i;

/** Every configured value whose name says it is a secret (`botToken`, `appSecret`, …), found anywhere in `config`. */
export function secretValuesOf(config: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, name: string, depth: number) => {
    if (depth > 4) return;
    if (typeof value === 'string') {
      // Short values would censor common words; real secrets are long.
      if (SECRET_NAME.test(name) && value.length >= 6) found.add(value);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) walk(inner, key, depth + 1);
  };
  walk(config, '', 0);
  return [...found].sort((a, b) => b.length - a.length);
}

export type Scrubber = (text: string) => string;

export function createScrubber(secrets: readonly string[]): Scrubber {
  return (text) => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(CENSORED);
    for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
    for (const [shape, replacement] of PERSONAL_SHAPES) {
      out = typeof replacement === 'string' ? out.replace(shape, replacement) : out.replace(shape, replacement);
    }
    return out;
  };
}

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  [field: string]: unknown;
}

const isErrorLike = (value: unknown): value is Error =>
  typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';

/**
 * The serializer of every `err` of every log line (pino's `serializers.err`, and the command
 * line's logger): the error's type, message, stack, the KEPT_FIELDS, and its nested errors alike,
 * all scrubbed.
 */
export function createErrorSerializer(secrets: readonly string[]): (error: unknown) => unknown {
  const scrub = createScrubber(secrets);
  const serialize = (error: unknown, depth: number): unknown => {
    if (!isErrorLike(error)) {
      if (error === undefined || error === null) return error;
      // An object that is not an error is named, not written: it may be a row or a chat update.
      return typeof error === 'object' ? `[${error.constructor?.name ?? 'object'}]` : scrub(String(error));
    }
    const out: SerializedError = {
      type: error.constructor?.name ?? error.name ?? 'Error',
      message: scrub(error.message),
    };
    if (typeof error.stack === 'string') out.stack = scrub(error.stack);
    const fields = error as unknown as Record<string, unknown>;
    for (const field of KEPT_FIELDS) {
      const value = fields[field];
      if (typeof value === 'string') out[field] = scrub(value);
      else if (typeof value === 'number' || typeof value === 'boolean') out[field] = value;
    }
    if (depth < MAX_DEPTH) {
      for (const field of ['cause', 'error'] as const) {
        if (fields[field] !== undefined && fields[field] !== null) out[field] = serialize(fields[field], depth + 1);
      }
      if (Array.isArray(fields.errors)) out.errors = fields.errors.slice(0, 10).map((e) => serialize(e, depth + 1));
    }
    return out;
  };
  return (error) => serialize(error, 0);
}
