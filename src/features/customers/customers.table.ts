import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';

export interface CustomerTable {
  id: string;
  /** Stored lowercased; unique. */
  email: string;
  name: string | null;
  /** `name` folded for search (see foldForSearch); written with `name`, never read by the API. */
  name_search: ColumnType<string | null, string | null | undefined, string | null>;
  /** A JSON object, serialized. */
  metadata: string;
  created_at: string;
  updated_at: string;
}

export type CustomerRow = Selectable<CustomerTable>;
export type NewCustomerRow = Insertable<CustomerTable>;
export type CustomerUpdate = Updateable<CustomerTable>;
