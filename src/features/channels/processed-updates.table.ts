import type { Insertable, Selectable } from 'kysely';

/** A chat update already handled, remembered until `expires_at` so that a redelivery is ignored. */
export interface ProcessedChatUpdateTable {
  channel: string;
  /** Telegram `<bot id>:<update_id>`, WhatsApp's message id, Slack's `<timestamp>:<sha256 of the body>`, Discord's interaction id. */
  update_key: string;
  processed_at: string;
  expires_at: string;
}

export type ProcessedChatUpdateRow = Selectable<ProcessedChatUpdateTable>;
export type NewProcessedChatUpdate = Insertable<ProcessedChatUpdateTable>;
