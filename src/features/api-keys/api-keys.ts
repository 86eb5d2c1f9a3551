import { hash } from 'node:crypto';
import type { Random } from '../../internal/clock.js';
import type { ApiKeyRow } from './api-keys.table.js';

export const SCOPES = ['admin', 'runtime'] as const;
export type Scope = (typeof SCOPES)[number];

/** Recognisable in a leaked config file or a secret scanner. */
export const KEY_PREFIX = 'idsk_';
/** Shown in lists so that people can tell keys apart; reveals 8 of 43 random characters. */
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 8;

export interface ApiKey {
  id: string;
  name: string;
  scope: Scope;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

export interface NewApiKey extends Omit<ApiKey, 'last_used_at'> {
  /** The only time the key is shown. */
  key: string;
}

/** 256 random bits, base64url. */
export const generateApiKey = (random: Random) => `${KEY_PREFIX}${random.bytes(32).toString('base64url')}`;

/** SHA-256 in hex, in one call (`crypto.hash`: a third of createHash's cost; it runs on every request). */
export const hashApiKey = (key: string) => hash('sha256', key, 'hex');

/** A key of ours shows its prefix and 8 of its 43 random characters; any other (a bootstrap key) only 4 characters. */
export const shownPrefix = (key: string) =>
  key.startsWith(KEY_PREFIX) ? key.slice(0, SHOWN_PREFIX_LENGTH) : key.slice(0, 4);

export const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  name: row.name,
  scope: row.scope as Scope,
  prefix: row.prefix,
  created_at: row.created_at,
  last_used_at: row.last_used_at,
});

/** admin may do everything; runtime only what a route allows it. */
export const scopeAllows = (held: Scope, needed: Scope) => held === 'admin' || held === needed;
