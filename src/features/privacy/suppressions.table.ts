import type { Insertable, Selectable } from 'kysely';

/** A value of an erased person that may not come back, kept as a keyed hash only. */
export interface SuppressionTable {
  id: string;
  kind: 'email' | 'external_id';
  /** The channel of an external id; NULL for an email. */
  channel: string | null;
  /** Hex HMAC-SHA256 of kind, channel and the normalized value (suppression.ts). */
  value_hash: string;
  created_at: string;
}

export type SuppressionRow = Selectable<SuppressionTable>;
export type NewSuppressionRow = Insertable<SuppressionTable>;
