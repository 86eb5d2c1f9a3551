import type { Ajv, ErrorObject } from 'ajv';

/**
 * pydantic's default (lax) mode reads a JSON body's booleans the way people write them: `true`,
 * `"yes"`, `"off"`, `1`, `0.0`. FastAPI clients may rely on it, so bodies accept the same; what
 * it cannot read is `bool_parsing` (a string or number) or `bool_type` (anything else).
 */
const TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE = new Set(['0', 'f', 'false', 'n', 'no', 'off']);

function read(value: unknown): boolean | undefined {
  if (typeof value === 'string') {
    const text = value.toLowerCase();
    return TRUE.has(text) ? true : FALSE.has(text) ? false : undefined;
  }
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  return undefined;
}

export function addLaxBooleanKeyword(ajv: Ajv) {
  ajv.addKeyword({
    keyword: 'x-lax-bool',
    modifying: true,
    errors: true,
    validate: function laxBool(
      options: { nullable: boolean },
      data: unknown,
      _parent: unknown,
      cxt?: { parentData: any; parentDataProperty: string | number },
    ) {
      if (typeof data === 'boolean' || (data === null && options.nullable)) return true;
      const value = read(data);
      if (value !== undefined && cxt && cxt.parentData !== undefined) {
        cxt.parentData[cxt.parentDataProperty] = value;
        return true;
      }
      const parsing = typeof data === 'string' || typeof data === 'number';
      (laxBool as unknown as { errors: Partial<ErrorObject>[] }).errors = [
        { keyword: 'x-lax-bool', message: 'invalid', params: { parsing } },
      ];
      return false;
    },
  });
}

const isBooleanType = (type: unknown) =>
  type === 'boolean' ||
  (Array.isArray(type) && type.includes('boolean') && type.every((t) => t === 'boolean' || t === 'null'));

/** A body schema whose boolean fields use the lax keyword; the route's own schema (and OpenAPI) keep `type`. */
export function laxBooleans(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(laxBooleans);
  if (schema === null || typeof schema !== 'object') return schema;
  const record = schema as Record<string, unknown>;
  if (isBooleanType(record.type)) {
    const { type, ...rest } = record;
    return { ...rest, 'x-lax-bool': { nullable: Array.isArray(type) } };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[key] = ['enum', 'const', 'default', 'examples'].includes(key) ? value : laxBooleans(value);
  }
  return out;
}
