import { type TSchema, Type } from '@sinclair/typebox';
import { Uuid } from '../../features/shared/fields.js';

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
