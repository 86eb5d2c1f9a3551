import type { Executor } from '../../db/database.js';
import { containsInsensitive, forUpdate } from '../../db/dialect.js';
import type { Position } from '../shared/cursor.js';
import type { CustomerUpdate, NewCustomerRow } from './customers.table.js';

export function insertCustomer(db: Executor, row: NewCustomerRow) {
  return db.insertInto('customers').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findCustomerById(db: Executor, id: string) {
  return db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockCustomerById(db: Executor, id: string) {
  return forUpdate(db, db.selectFrom('customers').selectAll().where('id', '=', id)).executeTakeFirst();
}

export interface CustomerQuery {
  email?: string | undefined;
  q?: string | undefined;
  limit: number;
  before?: Position | undefined;
}

/** Newest first, `limit` rows. */
export function listCustomers(db: Executor, query: CustomerQuery) {
  let q = db.selectFrom('customers').selectAll();
  if (query.email !== undefined) q = q.where('email', '=', query.email);
  const needle = query.q;
  if (needle) {
    q = q.where((eb) => eb.or([containsInsensitive('email', needle), containsInsensitive('name', needle)]));
  }
  const before = query.before;
  if (before) {
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', before.at), eb.and([eb('created_at', '=', before.at), eb('id', '<', before.id)])]),
    );
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
}

export function updateCustomer(db: Executor, id: string, update: CustomerUpdate) {
  return db.updateTable('customers').set(update).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export function deleteCustomer(db: Executor, id: string) {
  return db.deleteFrom('customers').where('id', '=', id).executeTakeFirst();
}
