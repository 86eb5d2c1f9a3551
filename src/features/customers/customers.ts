import type { CustomerRow } from './customers.table.js';

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export const toCustomer = (row: CustomerRow): Customer => ({
  id: row.id,
  email: row.email,
  name: row.name,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Text as customer search compares it: NFC, then lowercased by JavaScript's Unicode rules. Both
 * sides of a search are folded here (the stored `name_search` and the needle), so that SQLite
 * (whose lower() knows only ASCII) and PostgreSQL (whose lower() follows its locale) agree.
 */
export const foldForSearch = (text: string) => text.normalize('NFC').toLowerCase();

/** `customers.name_search`, kept in step with `name` by the repository on every write. */
export const nameSearchOf = (name: string | null | undefined) =>
  name === null || name === undefined ? null : foldForSearch(name);
