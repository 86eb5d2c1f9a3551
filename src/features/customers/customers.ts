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
