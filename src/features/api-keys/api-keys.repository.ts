import type { Executor } from '../../db/database.js';
import type { ApiKeyRow } from './api-keys.table.js';

export function insertApiKey(db: Executor, row: Omit<ApiKeyRow, 'last_used_at' | 'revoked_at'>) {
  return db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findActiveKeyByHash(db: Executor, keyHash: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'name', 'scope', 'key_hash'])
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export function listActiveKeys(db: Executor) {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export function revokeKey(db: Executor, id: string, nowIso: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: nowIso })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** At most one write a minute per key, however many requests it makes (and however many replicas). */
export function touchKey(db: Executor, id: string, nowIso: string, staleBeforeIso: string) {
  return db
    .updateTable('api_keys')
    .set({ last_used_at: nowIso })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBeforeIso)]))
    .execute();
}

/**
 * Inserts the BOOTSTRAP_API_KEY's row unless a key with this hash exists (concurrent starts
 * insert it once); an existing key is left exactly as it is, revoked or not.
 */
export function insertBootstrapKey(db: Executor, row: Omit<ApiKeyRow, 'last_used_at' | 'revoked_at'>) {
  return db
    .insertInto('api_keys')
    .values(row)
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .execute();
}

export function findKeyByHash(db: Executor, keyHash: string) {
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
}

/** Brings a revoked key back; undefined when there is no such key or it is not revoked. */
export function restoreKey(db: Executor, id: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: null })
    .where('id', '=', id)
    .where('revoked_at', 'is not', null)
    .returningAll()
    .executeTakeFirst();
}

export function findKeyById(db: Executor, id: string) {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}
