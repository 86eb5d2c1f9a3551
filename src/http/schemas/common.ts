import { type Static, type TSchema, type TUnsafe, Type } from '@sinclair/typebox';

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

export const ErrorBody = Type.Object(
  { detail: Type.String({ examples: ['Customer not found'] }) },
  { $id: 'ErrorBody', description: 'Any error but a validation error' },
);

export const ValidationErrorBody = Type.Object(
  {
    detail: Type.Array(
      Type.Object(
        {
          type: Type.String({ examples: ['missing'] }),
          loc: Type.Array(Type.Union([Type.String(), Type.Integer()]), { examples: [['body', 'email']] }),
          msg: Type.String({ examples: ['Field required'] }),
          input: Type.Optional(Type.Unknown()),
          ctx: Type.Optional(Type.Object({}, { additionalProperties: true })),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { $id: 'ValidationErrorBody', description: "FastAPI's validation error" },
);

export const ConflictBody = Type.Object(
  {
    detail: Type.String({ examples: ['This channel identity is already linked to a customer'] }),
    conflict: Type.Optional(
      Type.Object(
        { customer_id: Uuid(), identity_id: Uuid() },
        { description: 'Who has the channel identity already, when that is why' },
      ),
    ),
  },
  { $id: 'ConflictBody', description: 'A conflict; when a channel identity is linked already, with whom' },
);

export const GoneBody = Type.Object(
  {
    detail: Type.String({ examples: ['Customer was merged'] }),
    merged_into: Uuid({ description: 'The customer it was merged into' }),
  },
  { $id: 'GoneBody', description: 'The customer was merged into another' },
);

const ref = (id: string) => Type.Unsafe<{ detail: unknown }>(Type.Ref(id));

/** The error responses a route documents, by status. */
export function errors(...statuses: number[]) {
  const out: Record<number, TSchema> = {};
  const bodies: Record<number, string> = { 409: 'ConflictBody', 410: 'GoneBody', 422: 'ValidationErrorBody' };
  for (const status of statuses) out[status] = ref(bodies[status] ?? 'ErrorBody');
  return out;
}
