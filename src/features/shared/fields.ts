import { type Static, type TSchema, type TUnsafe, Type } from '@sinclair/typebox';

// The building blocks of what a valid resource is. The HTTP routes and the bulk import both build
// their checks from these (and from the fields in customers/ and identities/), so that a value
// the API refuses is refused by the import in the same words.

/** A UUID; accepts Python's spellings and turns them into the canonical form (see validation/ajv.ts). */
export const Uuid = (options: { description?: string } = {}) =>
  Type.String({ format: 'uuid', 'x-uuid': true, ...options });

/** `T | null`, as a JSON Schema type list rather than anyOf, so that errors name the real type. */
export const Nullable = <T extends TSchema>(schema: T): TUnsafe<Static<T> | null> => {
  const { type, ...rest } = schema as unknown as { type: string } & Record<string, unknown>;
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [type, 'null'] });
};

export const Timestamp = () => Type.String({ format: 'date-time', examples: ['2019-08-24T14:15:22.000Z'] });

/** Bounds of metadata: serialized size and nesting (checked by validation/json-limits.ts). */
export const METADATA_MAX_BYTES = 16_384;
export const METADATA_MAX_DEPTH = 5;

/** A JSON object of the caller's own, at most 16 KiB as JSON and 5 levels deep. */
export const Metadata = () =>
  Type.Object(
    {},
    {
      additionalProperties: true,
      description: `A JSON object of your own: at most ${METADATA_MAX_BYTES} bytes as JSON, nested at most ${METADATA_MAX_DEPTH} levels`,
      'x-max-bytes': METADATA_MAX_BYTES,
      'x-max-depth': METADATA_MAX_DEPTH,
    },
  );
