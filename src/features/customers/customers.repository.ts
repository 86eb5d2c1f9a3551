import type { Executor } from '../../db/database.js';
import { containsText, forUpdate } from '../../db/dialect.js';
import type { Position } from '../shared/cursor.js';
import { foldForSearch, nameSearchOf } from './customers.js';
import type { CustomerUpdate, NewCustomerRow } from './customers.table.js';

export function insertCustomer(db: Executor, row: NewCustomerRow) {
  return db
    .insertInto('customers')
    .values({ ...row, name_search: nameSearchOf(row.name) })
    .returningAll()
    .executeTakeFirstOrThrow();
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
  if (query.q) {
    // Emails are stored lowercased, names beside their folded copy: both compare with the folded needle.
    const needle = foldForSearch(query.q);
    q = q.where((eb) => eb.or([containsText('email', needle), containsText('name_search', needle)]));
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
  const set = update.name === undefined ? update : { ...update, name_search: nameSearchOf(update.name) };
  return db.updateTable('customers').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export function deleteCustomer(db: Executor, id: string) {
  return db.deleteFrom('customers').where('id', '=', id).executeTakeFirst();
}
