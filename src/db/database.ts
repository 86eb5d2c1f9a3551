import type { Kysely, Transaction } from 'kysely';
import type { ApiKeyTable } from '../features/api-keys/api-keys.table.js';
import type { AuditEventTable } from '../features/audit/audit.table.js';
import type { ProcessedChatUpdateTable } from '../features/channels/processed-updates.table.js';
import type { ClaimCodeTable } from '../features/claims/claims.table.js';
import type { CustomerTable } from '../features/customers/customers.table.js';
import type { IdentityKeyTable, IdentityTable } from '../features/identities/identities.table.js';
import type { ChatNoticeTable, LinkRequestTable } from '../features/link-requests/link-requests.table.js';
import type { MergeTable } from '../features/merges/merges.table.js';
import type { SuppressionTable } from '../features/privacy/suppressions.table.js';
import type {
  WebhookAttemptTable,
  WebhookDeliveryTable,
  WebhookEventSubjectTable,
  WebhookEventTable,
  WebhookSubscriptionTable,
} from '../features/webhooks/webhooks.table.js';

export interface SettingTable {
  key: string;
  value: string;
}

export interface Database {
  customers: CustomerTable;
  identities: IdentityTable;
  identity_keys: IdentityKeyTable;
  merges: MergeTable;
  claim_codes: ClaimCodeTable;
  api_keys: ApiKeyTable;
  audit_events: AuditEventTable;
  settings: SettingTable;
  processed_chat_updates: ProcessedChatUpdateTable;
  webhook_subscriptions: WebhookSubscriptionTable;
  webhook_events: WebhookEventTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  link_requests: LinkRequestTable;
  chat_notices: ChatNoticeTable;
  webhook_event_subjects: WebhookEventSubjectTable;
  suppressions: SuppressionTable;
}

/** A connection or a transaction: repositories accept either. */
export type Executor = Kysely<Database> | Transaction<Database>;

export type DialectName = 'sqlite' | 'postgres';
