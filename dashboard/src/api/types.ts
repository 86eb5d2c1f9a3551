/** The API's bodies: the same types as the runtime's client, so that the two cannot drift apart. */
export type {
  ClaimCode,
  Customer,
  Identity,
  Json,
  Metadata as JsonObject,
  Page,
  ServiceInfo,
  ValidationIssue as ValidationItem,
} from '../../../packages/client/src/types.js';

import type { Json } from '../../../packages/client/src/types.js';

/** One entry of the audit trail (GET /v1/audit); only the dashboard reads it. */
export interface AuditEvent {
  id: string;
  at: string;
  actor_key_id: string | null;
  actor: string;
  action: string;
  customer_id: string | null;
  identity_id: string | null;
  before: Json;
  after: Json;
}
