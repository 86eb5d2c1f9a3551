import type { ErrorObject } from 'ajv';

/** One entry of FastAPI's 422 `detail` list (pydantic v2's error shape). */
export interface FastApiError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

const LOC_ROOT: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

const s = (n: number) => (n === 1 ? '' : 's');

function locOf(context: string, error: ErrorObject): (string | number)[] {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const loc: (string | number)[] = [LOC_ROOT[context] ?? context, ...path];
  if (error.keyword === 'required') loc.push(String(error.params.missingProperty));
  return loc;
}

function typeAndMessage(context: string, error: ErrorObject, atRoot: boolean): Omit<FastApiError, 'loc' | 'input'> {
  const p = error.params as Record<string, any>;
  switch (error.keyword) {
    case 'required':
      return { type: 'missing', msg: 'Field required' };
    case 'type': {
      const wanted = String(p.type).split(',')[0];
      if (wanted === 'string') return { type: 'string_type', msg: 'Input should be a valid string' };
      if (wanted === 'boolean') return { type: 'bool_type', msg: 'Input should be a valid boolean' };
      if (wanted === 'integer' || wanted === 'number') {
        return context === 'body'
          ? { type: 'int_type', msg: 'Input should be a valid integer' }
          : { type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' };
      }
      if (wanted === 'object' && atRoot && context === 'body') {
        return {
          type: 'model_attributes_type',
          msg: 'Input should be a valid dictionary or object to extract fields from',
        };
      }
      if (wanted === 'object') return { type: 'dict_type', msg: 'Input should be a valid dictionary' };
      if (wanted === 'array') return { type: 'list_type', msg: 'Input should be a valid list' };
      return { type: `${wanted}_type`, msg: `Input should be a valid ${wanted}` };
    }
    case 'minLength':
      return {
        type: 'string_too_short',
        msg: `String should have at least ${p.limit} character${s(p.limit)}`,
        ctx: { min_length: p.limit },
      };
    case 'maxLength':
      return {
        type: 'string_too_long',
        msg: `String should have at most ${p.limit} character${s(p.limit)}`,
        ctx: { max_length: p.limit },
      };
    case 'pattern':
      return {
        type: 'string_pattern_mismatch',
        msg: `String should match pattern '${p.pattern}'`,
        ctx: { pattern: p.pattern },
      };
    case 'minimum':
      return {
        type: 'greater_than_equal',
        msg: `Input should be greater than or equal to ${p.limit}`,
        ctx: { ge: p.limit },
      };
    case 'maximum':
      return { type: 'less_than_equal', msg: `Input should be less than or equal to ${p.limit}`, ctx: { le: p.limit } };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((v) => `'${String(v)}'`);
      const expected = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}` : allowed[0];
      return { type: 'literal_error', msg: `Input should be ${expected}`, ctx: { expected } };
    }
    case 'x-lax-bool':
      return p.parsing
        ? { type: 'bool_parsing', msg: 'Input should be a valid boolean, unable to interpret input' }
        : { type: 'bool_type', msg: 'Input should be a valid boolean' };
    case 'x-uuid':
      return {
        type: 'uuid_parsing',
        msg: 'Input should be a valid UUID, invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-]',
      };
    case 'x-email':
      return {
        type: 'value_error',
        msg: 'value is not a valid email address: An email address must have an @-sign and a domain.',
      };
    case 'maxProperties':
    case 'x-max-depth':
    case 'x-max-bytes':
      return { type: 'value_error', msg: `Value error, ${error.message ?? 'too large'}` };
    default:
      return { type: 'value_error', msg: `Value error, ${error.message ?? 'invalid value'}` };
  }
}

function inputAt(data: unknown, instancePath: string): unknown {
  let value = data;
  for (const part of instancePath.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return value;
}

/** Fastify's Ajv errors for one part of the request, as FastAPI would have reported them. */
export function toFastApiErrors(context: string, errors: ErrorObject[], data?: unknown): FastApiError[] {
  return errors
    .filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword))
    .slice(0, 1)
    .map((error) => {
      const input = inputAt(data, error.instancePath);
      return {
        ...typeAndMessage(context, error, error.instancePath === ''),
        loc: locOf(context, error),
        ...(error.keyword === 'required' ? {} : input === undefined ? {} : { input }),
      };
    });
}
