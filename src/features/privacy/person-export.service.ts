import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { notFound } from '../../internal/errors.js';
import { type AuditEvent, toAuditEvent } from '../audit/audit.service.js';
import { type Customer, toCustomer } from '../customers/customers.js';
import { findCustomerById } from '../customers/customers.repository.js';
import type { CustomerRow } from '../customers/customers.table.js';
import type { Identity } from '../identities/identities.js';
import { listIdentityRowsOfCustomer } from '../identities/identities.repository.js';
import { withAliases } from '../identities/identities.service.js';
import { type LinkRequest, toLinkRequest } from '../link-requests/link-requests.js';
import { readPerson } from './person.js';
import { deliveriesOfEvents } from './person.repository.js';

/** One person's data in one document: the answer to an access request. */
export interface PersonExport {
  exported_at: string;
  customer: Customer;
  identities: Identity[];
  /** As the API shows a LinkRequest: never its code's HMAC, nor where a chat reply goes. */
  link_requests: LinkRequest[];
  merges: {
    merge_id: string;
    target_customer_id: string;
    source_customer_id: string;
    merged_at: string;
    undone_at: string | null;
    /** The source customer as it was when it was merged away. */
    source_customer: Customer;
    moved_identity_ids: string[];
  }[];
  audit: AuditEvent[];
  webhook_events: {
    id: string;
    type: string;
    created_at: string;
    /** The body as sent to receivers. */
    body: unknown;
    deliveries: {
      subscription_id: string;
      status: string;
      attempts: number;
      created_at: string;
      updated_at: string;
    }[];
  }[];
}

export type PersonExportService = ReturnType<typeof createPersonExportService>;

export function createPersonExportService(deps: { db: Kysely<Database>; clock: Clock }) {
  const { db } = deps;
  return {
    /** Everything about the customer, never a claim code, an API key or a webhook secret. */
    async exportCustomer(customerId: string): Promise<PersonExport> {
      return mapDbError(async () => {
        const row = await findCustomerById(db, customerId);
        if (!row) throw notFound('Customer');
        const person = await readPerson(db, row, await listIdentityRowsOfCustomer(db, customerId));
        const deliveries = await deliveriesOfEvents(
          db,
          person.webhookEvents.map((event) => event.id),
        );
        const now = isoNow(deps.clock);
        return {
          exported_at: now,
          customer: toCustomer(row),
          identities: await withAliases(db, person.identities),
          link_requests: person.linkRequests.map((request) => toLinkRequest(request, now)),
          merges: person.merges.map((m) => ({
            merge_id: m.id,
            target_customer_id: m.target_customer_id,
            source_customer_id: m.source_customer_id,
            merged_at: m.merged_at,
            undone_at: m.undone_at,
            source_customer: toCustomer(JSON.parse(m.source) as CustomerRow),
            moved_identity_ids: JSON.parse(m.moved_identity_ids) as string[],
          })),
          audit: person.audit.map(toAuditEvent),
          webhook_events: person.webhookEvents.map((event) => ({
            id: event.id,
            type: event.type,
            created_at: event.created_at,
            body: JSON.parse(event.payload) as unknown,
            deliveries: deliveries
              .filter((d) => d.event_id === event.id)
              .map((d) => ({
                subscription_id: d.subscription_id,
                status: d.status,
                attempts: d.attempts,
                created_at: d.created_at,
                updated_at: d.updated_at,
              })),
          })),
        };
      });
    },
  };
}
