import type { Selectable } from 'kysely';

export interface ApiKeyTable {
  id: string;
  name: string;
  scope: string;
  /** The first characters of the key, shown so that people can tell keys apart. */
  prefix: string;
  /** SHA-256 of the whole key, hex. Keys carry 256 random bits, so a fast hash suffices. */
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export type ApiKeyRow = Selectable<ApiKeyTable>;
