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
  /** How the link was proven (VerifiedVia in identities.ts); NULL while unverified. */
  verified_via: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
}

export type IdentityRow = Selectable<IdentityTable>;
export type NewIdentityRow = Insertable<IdentityTable>;
export type IdentityUpdate = Updateable<IdentityTable>;

/**
 * One row of the lookup's query (`identities.repository.ts`): a scope of a channel identity with
 * its customer's email. Here, with the tables, so that the rules (`identities.ts`) and the
 * repository both use it without importing each other; the repository checks at compile time
 * that its query returns exactly this.
 */
export type LookupRow = Pick<
  IdentityRow,
  | 'customer_id'
  | 'channel'
  | 'external_id'
  | 'instance_id'
  | 'display_name'
  | 'role_override'
  | 'verified_at'
  | 'verified_via'
> & { identity_id: IdentityRow['id']; customer_email: string };

/**
 * Every external id and alias of every identity, one row each; one unique index on
 * (channel, external_id, scope) keeps them all apart. The 'external_id' row of an identity is
 * written by database triggers on `identities` (see the 2026-12-04 migration); aliases by us.
 */
export interface IdentityKeyTable {
  channel: string;
  external_id: string;
  /** The identity's instance_id, '' when unscoped. */
  scope: string;
  identity_id: string;
  kind: 'external_id' | 'alias';
  created_at: string;
}
