import type { Selectable } from 'kysely';

/** At most one active code per identity: the identity id is the primary key. */
export interface ClaimCodeTable {
  identity_id: string;
  /** HMAC-SHA256(secret, identity_id:code), hex. The code itself is never stored. */
  code_hash: string;
  expires_at: string;
  /** Failed attempts so far; raised before each comparison, the code is void at the limit. */
  attempts: number;
  created_at: string;
}

export type ClaimCodeRow = Selectable<ClaimCodeTable>;
