import { createHmac } from 'node:crypto';
import type { Random } from '../../internal/clock.js';
import { CODE_ALPHABET, describeDuration } from '../claims/claims.js';
import type { LinkRequestRow } from './link-requests.table.js';

export type LinkRequestStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export const LINK_REQUEST_STATUSES: readonly LinkRequestStatus[] = ['pending', 'approved', 'rejected', 'expired'];

/** A stranger's request to be known, as the API shows it (never its code). */
export interface LinkRequest {
  id: string;
  channel: string;
  external_id: string;
  instance_id: string | null;
  display_name: string | null;
  status: LinkRequestStatus;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  customer_id: string | null;
  identity_id: string | null;
}

/** 8 symbols of the claim codes' 31: about 39.6 bits, against at most 5 guesses an hour per sender. */
export const LINK_CODE_LENGTH = 8;

/** Failed self-service links per sender account per hour, after which it is refused (CONTRACT.md). */
export const SELF_SERVICE_FAILURES = 5;
export const SELF_SERVICE_WINDOW_MS = 3_600_000;

export function generateLinkCode(random: Random): string {
  let code = '';
  for (let i = 0; i < LINK_CODE_LENGTH; i++) code += CODE_ALPHABET[random.int(CODE_ALPHABET.length)];
  return code;
}

/**
 * The code is found by its HMAC (it names no request), so the HMAC is of the code alone; the
 * prefix keeps it apart from claim codes' HMACs under the same key.
 */
export const hashLinkCode = (secret: string, code: string) =>
  createHmac('sha256', secret).update(`link-request:${code}`).digest('hex');

/** A pending request past its expiry is `expired`, whatever its row still says. */
export function statusAt(row: Pick<LinkRequestRow, 'status' | 'expires_at'>, nowIso: string): LinkRequestStatus {
  return row.status === 'pending' && row.expires_at <= nowIso ? 'expired' : row.status;
}

export const isLive = (row: Pick<LinkRequestRow, 'status' | 'expires_at'>, nowIso: string) =>
  statusAt(row, nowIso) === 'pending';

export const toLinkRequest = (row: LinkRequestRow, nowIso: string): LinkRequest => ({
  id: row.id,
  channel: row.channel,
  external_id: row.external_id,
  instance_id: row.instance_id,
  display_name: row.display_name,
  status: statusAt(row, nowIso),
  created_at: row.created_at,
  expires_at: row.expires_at,
  decided_at: row.decided_at,
  customer_id: row.customer_id,
  identity_id: row.identity_id,
});

/** What the person is told to do with the code (the API's `instructions`, and the chat reply's core). */
export const linkInstructions = (code: string, channel: string, ttlSeconds: number) =>
  `To link this ${channel} account, read the code ${code} to the team you are talking to, ` +
  `or send /link ${code} from an account of yours that is already verified. ` +
  `The code expires in ${describeDuration(ttlSeconds)}.`;
