import type { Insertable, Selectable } from 'kysely';

export interface AuditEventTable {
  id: string;
  at: string;
  /** The API key that acted; NULL for the command line and the chat webhooks. */
  actor_key_id: string | null;
  /** Who acted when there is no key: 'cli', 'telegram-webhook', 'slack-webhook', 'whatsapp-webhook', 'discord-webhook', … */
  actor: string;
  action: string;
  customer_id: string | null;
  identity_id: string | null;
  /** JSON `{before, after}`; never secrets. */
  changes: string;
}

export type AuditEventRow = Selectable<AuditEventTable>;
export type NewAuditEventRow = Insertable<AuditEventTable>;
