import { type TSchema, Type } from '@sinclair/typebox';

// The fields every resource is built from live with the features (what a valid resource is);
// re-exported here for the routes.
export {
  METADATA_MAX_BYTES,
  METADATA_MAX_DEPTH,
  Metadata,
  Nullable,
  Timestamp,
  Uuid,
} from '../../features/shared/fields.js';

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

const ref = (id: string) => Type.Unsafe<{ detail: unknown }>(Type.Ref(id));

/** The error responses a route documents, by status. */
export function errors(...statuses: number[]) {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) out[status] = status === 422 ? ref('ValidationErrorBody') : ref('ErrorBody');
  return out;
}
