import type { Selectable } from 'kysely';

/** One merge of a source customer into a target, with what undoing it needs. */
export interface MergeTable {
  id: string;
  target_customer_id: string;
  source_customer_id: string;
  /** JSON: the source customer's row as it was before the merge. */
  source: string;
  /** JSON `TargetBefore`: the target's name and metadata before the merge, and its updated_at after. */
  target_before: string;
  /** JSON array of the ids of the identities that moved. */
  moved_identity_ids: string;
  merged_at: string;
  undone_at: string | null;
}

export type MergeRow = Selectable<MergeTable>;

export interface TargetBefore {
  name: string | null;
  metadata: string;
  /** The target's updated_at as the merge left it: when it still is, undo restores name and metadata. */
  updated_at_after: string;
}
