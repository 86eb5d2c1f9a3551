import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Nullable, Timestamp, Uuid } from './common.js';
import { CustomerSchema, IdentitySchema } from './resources.js';

/** A named schema used several times in one response: without its $id, which may appear only once. */
function inline<T extends TSchema>(schema: T) {
  const { $id: _, ...rest } = schema as T & { $id?: string };
  return Type.Unsafe<Static<T>>(rest);
}

const Customer = inline(CustomerSchema);
const Identity = inline(IdentitySchema);

export const MergePreviewSchema = Type.Object(
  {
    target: Customer,
    source: Customer,
    result: Customer,
    identities_to_move: Type.Array(Identity),
  },
  { $id: 'MergePreview', description: 'dry_run: what the merge would do; nothing is written' },
);

export const MergeResultSchema = Type.Object(
  {
    merge_id: Uuid(),
    target: Customer,
    moved_identity_ids: Type.Array(Uuid()),
    merged_at: Timestamp(),
  },
  { $id: 'MergeResult', description: 'The merge that was made' },
);

export const MergeSchema = Type.Object(
  {
    merge_id: Uuid(),
    target_customer_id: Uuid(),
    source_customer_id: Uuid(),
    merged_at: Timestamp(),
    undone_at: Nullable(Timestamp()),
  },
  { $id: 'Merge' },
);

export const UndoResultSchema = Type.Object(
  {
    source: Customer,
    moved_back_identity_ids: Type.Array(Uuid()),
  },
  { $id: 'UndoResult' },
);
