import type { Insertable, Selectable, Updateable } from 'kysely';

export interface CustomerTable {
  id: string;
  /** Stored lowercased; unique. */
  email: string;
  name: string | null;
  /** A JSON object, serialized. */
  metadata: string;
  created_at: string;
  updated_at: string;
}

export type CustomerRow = Selectable<CustomerTable>;
export type NewCustomerRow = Insertable<CustomerTable>;
export type CustomerUpdate = Updateable<CustomerTable>;
