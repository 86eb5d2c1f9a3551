import type { Ajv, ErrorObject } from 'ajv';

/**
 * How deep any JSON the service reads may nest: a request body, an import line. Deeper JSON is
 * refused as it is parsed, before anything walks it: Ajv, JSON.stringify and the error builders
 * recurse, and 8,000 nested arrays overflow their stack (a 500, or an import that stops).
 */
export const JSON_MAX_DEPTH = 64;

/** The message of the 422 (or the bad import line) for JSON nested beyond `limit`. */
export const tooDeepMessage = (limit: number) => `the JSON is nested more than ${limit} levels deep`;

/**
 * Whether a JSON value nests more than `limit` levels (a scalar is 0, `{}` is 1, `{"a":{}}` is 2).
 * Iterative, so that no depth can overflow the stack; stops at the first branch that is too deep.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: object; depth: number }[] = [];
  if (value !== null && typeof value === 'object') stack.push({ value, depth: 1 });
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.depth > limit) return true;
    for (const child of Object.values(top.value)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: top.depth + 1 });
    }
  }
  return false;
}

/** Bytes of a value as JSON: the measure of `x-max-bytes`, and of what a merge would store. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');

type Validate = ((schema: number, data: unknown) => boolean) & { errors?: Partial<ErrorObject>[] };

/**
 * `x-max-bytes` (serialized JSON size) and `x-max-depth` (nesting) for free-form JSON such as
 * metadata: the schema alone cannot bound either, and both cost storage and every later read.
 */
export function addJsonLimitKeywords(ajv: Ajv) {
  const maxBytes: Validate = (limit, data) => {
    const bytes = jsonBytes(data);
    if (bytes <= limit) return true;
    maxBytes.errors = [
      {
        keyword: 'x-max-bytes',
        message: `the JSON is ${bytes} bytes; at most ${limit} are allowed`,
        params: { limit },
      },
    ];
    return false;
  };
  const maxDepth: Validate = (limit, data) => {
    if (!nestedDeeperThan(data, limit)) return true;
    maxDepth.errors = [{ keyword: 'x-max-depth', message: tooDeepMessage(limit), params: { limit } }];
    return false;
  };
  ajv.addKeyword({ keyword: 'x-max-bytes', type: 'object', schemaType: 'number', errors: true, validate: maxBytes });
  ajv.addKeyword({ keyword: 'x-max-depth', type: 'object', schemaType: 'number', errors: true, validate: maxDepth });
}
