import type { Insertable, Selectable, Updateable } from 'kysely';

export interface IdentityTable {
  id: string;
  customer_id: string;
  /** Normalized: see `normalizeChannel`. */
  channel: string;
  /** Normalized per channel: see `normalizeExternalId`. */
  external_id: string;
  /** NULL means every instance; unique per (channel, external_id, COALESCE(instance_id, '')). */
  instance_id: string | null;
  display_name: string | null;
  role_override: string | null;
  /** `verified` is derived: an identity is verified exactly when this is set. */
  verified_at: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
}

export type IdentityRow = Selectable<IdentityTable>;
export type NewIdentityRow = Insertable<IdentityTable>;
export type IdentityUpdate = Updateable<IdentityTable>;
