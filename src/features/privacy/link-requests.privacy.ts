import type { Executor } from '../../db/database.js';

// How forgetting reaches link requests (CONTRACT.md part three). The link_requests table arrives
// with its own feature; until then each function below has nothing to find. When it lands, each
// becomes one query, and export, erasure and retention need no other change.

/** Whose link requests: the person's customer and identity ids, and every key of their accounts. */
export interface LinkRequestOwner {
  customerIds: readonly string[];
  identityIds: readonly string[];
  keys: readonly { channel: string; external_id: string }[];
}

/** The person's link requests as the API shows them (never the code), for the export. */
export async function linkRequestsOf(_db: Executor, _owner: LinkRequestOwner): Promise<unknown[]> {
  return [];
}

/** Deletes the person's link requests in the erasing transaction; returns how many. */
export async function eraseLinkRequests(_db: Executor, _owner: LinkRequestOwner): Promise<number> {
  return 0;
}

/**
 * Deletes at most `limit` link requests decided or expired before `before` (one batch of the
 * retention pruner; see retention.service.ts for how replicas share batches); returns how many.
 */
export async function pruneLinkRequests(_db: Executor, _before: string, _limit: number): Promise<number> {
  return 0;
}
