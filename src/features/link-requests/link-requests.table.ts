import type { Insertable, Selectable, Updateable } from 'kysely';

/** Stored statuses; a 'pending' row past its expires_at is shown as `expired`. */
export type StoredLinkRequestStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface LinkRequestTable {
  id: string;
  /** Normalized like an identity's. */
  channel: string;
  external_id: string;
  instance_id: string | null;
  /** instance_id, '' when unscoped: one pending request per (channel, external_id, scope). */
  scope: string;
  display_name: string | null;
  status: StoredLinkRequestStatus;
  /** HMAC-SHA256 of the code (see link-requests.ts), hex; NULL once decided or expired. */
  code_hmac: string | null;
  origin: 'api' | 'chat';
  /** JSON: where a chat reply goes (origin 'chat'); the chat channel's own shape. */
  reply_to: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
  decided_at: string | null;
  customer_id: string | null;
  identity_id: string | null;
}

export type LinkRequestRow = Selectable<LinkRequestTable>;
export type NewLinkRequestRow = Insertable<LinkRequestTable>;
export type LinkRequestUpdate = Updateable<LinkRequestTable>;

/**
 * A message to a person on a chat channel, written in the transaction of the decision it tells
 * of, and delivered by the chat channels (at least once; one row per request and kind).
 */
export interface ChatNoticeTable {
  id: string;
  link_request_id: string;
  kind: 'link_request.approved' | 'link_request.rejected';
  channel: string;
  /** JSON, the request's reply_to. */
  reply_to: string;
  /** `failed`: given up (see channels/chat-notice-dispatcher.ts); never sent again. */
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export type ChatNoticeRow = Selectable<ChatNoticeTable>;
