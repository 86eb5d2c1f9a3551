import type { Customer } from '../customers/customers.js';
import type { Identity } from '../identities/identities.js';
import type { MergeRow } from './merges.table.js';

export interface MergePreview {
  target: Customer;
  source: Customer;
  /** The target as the merge would leave it. */
  result: Customer;
  identities_to_move: Identity[];
}

export interface MergeResult {
  merge_id: string;
  target: Customer;
  moved_identity_ids: string[];
  merged_at: string;
}

export interface UndoResult {
  source: Customer;
  moved_back_identity_ids: string[];
}

export interface Merge {
  merge_id: string;
  target_customer_id: string;
  source_customer_id: string;
  merged_at: string;
  undone_at: string | null;
}

export const toMerge = (row: MergeRow): Merge => ({
  merge_id: row.id,
  target_customer_id: row.target_customer_id,
  source_customer_id: row.source_customer_id,
  merged_at: row.merged_at,
  undone_at: row.undone_at,
});

/** The target's keys win; the target's name is kept unless it has none. */
export function mergedFields(
  target: { name: string | null; metadata: Record<string, unknown> },
  source: { name: string | null; metadata: Record<string, unknown> },
) {
  return { name: target.name ?? source.name, metadata: { ...source.metadata, ...target.metadata } };
}

/** How many merges `merged_into` follows at most (A into B, B into C, …). */
export const MAX_MERGE_CHAIN = 16;
