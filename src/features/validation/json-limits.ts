import type { Ajv, ErrorObject } from 'ajv';

/** Nesting depth of a JSON value: a scalar is 0, `{}` is 1, `{"a":{}}` is 2. Stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  if (limit < 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, jsonDepth(child, limit - 1));
    if (deepest > limit) break;
  }
  return deepest + 1;
}

type Validate = ((schema: number, data: unknown) => boolean) & { errors?: Partial<ErrorObject>[] };

/**
 * `x-max-bytes` (serialized JSON size) and `x-max-depth` (nesting) for free-form JSON such as
 * metadata: the schema alone cannot bound either, and both cost storage and every later read.
 */
export function addJsonLimitKeywords(ajv: Ajv) {
  const maxBytes: Validate = (limit, data) => {
    const bytes = Buffer.byteLength(JSON.stringify(data) ?? '');
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
    if (jsonDepth(data, limit) <= limit) return true;
    maxDepth.errors = [
      { keyword: 'x-max-depth', message: `the JSON is nested more than ${limit} levels deep`, params: { limit } },
    ];
    return false;
  };
  ajv.addKeyword({ keyword: 'x-max-bytes', type: 'object', schemaType: 'number', errors: true, validate: maxBytes });
  ajv.addKeyword({ keyword: 'x-max-depth', type: 'object', schemaType: 'number', errors: true, validate: maxDepth });
}
