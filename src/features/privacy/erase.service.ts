import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { deleteCustomer, lockCustomerById } from '../customers/customers.repository.js';
import { lockIdentitiesOfCustomer } from '../identities/identities.repository.js';
import { eraseLinkRequests } from './link-requests.privacy.js';
import { ownerOf, readPerson } from './person.js';
import {
  deleteMerges,
  deleteWebhookEvents,
  deliveredEventIds,
  dropUndelivered,
  updateAuditChanges,
  updateWebhookPayload,
} from './person.repository.js';
import { redact } from './redact.js';
import type { SuppressibleValue } from './suppression.js';
import type { SuppressionsService } from './suppressions.service.js';

export interface Erasure {
  customer_id: string;
  erased_at: string;
  identity_ids: string[];
  /** How many values (external ids with their channel, emails) were suppressed. */
  suppressed: number;
}

export type EraseService = ReturnType<typeof createEraseService>;

export function createEraseService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  suppressions: SuppressionsService;
  /**
   * After the commit: SQLite checkpoints its WAL and truncates it, so that the old pages (which
   * still hold the person) leave the files; secure_delete has zeroed the freed space already.
   */
  afterErase?: (() => Promise<void>) | undefined;
}) {
  const { uow, clock } = deps;

  return {
    /**
     * Forgets a person in one transaction: the customer, the customers merged into it, their
     * identities, keys, claim codes, link requests and merge records are deleted; the audit
     * entries and stored webhook bodies about them keep only ids; their undelivered events are
     * dropped. Recorded as `customer.erased` (ids and counts), which is also the event sent.
     */
    async erase(actor: Actor, customerId: string, options: { suppress: boolean; reason?: string | undefined }) {
      const erasure = await mapDbError(() =>
        uow(actor, async (trx, fx): Promise<Erasure> => {
          const row = await lockCustomerById(trx, customerId);
          if (!row) throw notFound('Customer');
          const identities = await lockIdentitiesOfCustomer(trx, customerId);
          const person = await readPerson(trx, row, identities);
          const erasedAt = isoNow(clock);
          for (const key of person.keys) fx.identityChanged(key.channel, key.external_id);

          const values: SuppressibleValue[] = [
            ...person.keys.map((key) => ({ channel: key.channel, external_id: key.external_id })),
            ...[row.email, ...person.mergedEmails].map((email) => ({ email })),
          ];
          const suppressed = options.suppress ? await deps.suppressions.suppress(trx, values) : 0;

          for (const entry of person.audit) {
            await updateAuditChanges(trx, entry.id, JSON.stringify(redact(JSON.parse(entry.changes))));
          }

          const eventIds = person.webhookEvents.map((event) => event.id);
          await dropUndelivered(trx, eventIds);
          const delivered = await deliveredEventIds(trx, eventIds);
          await deleteWebhookEvents(
            trx,
            eventIds.filter((id) => !delivered.has(id)),
          );
          for (const event of person.webhookEvents) {
            if (!delivered.has(event.id)) continue;
            const body = JSON.parse(event.payload) as { data?: unknown };
            await updateWebhookPayload(trx, event.id, JSON.stringify({ ...body, data: redact(body.data) }));
          }

          const linkRequests = await eraseLinkRequests(trx, ownerOf(person));
          await deleteMerges(
            trx,
            person.merges.map((m) => m.id),
          );
          // Identities, their keys and claim codes go with the customer (ON DELETE CASCADE).
          await deleteCustomer(trx, customerId);

          const identityIds = identities.map((identity) => identity.id);
          await fx.audit({
            action: 'customer.erased',
            customerId,
            after: {
              reason: options.reason ?? null,
              identity_ids: identityIds,
              erased_at: erasedAt,
              counts: {
                customers: person.customerIds.length,
                identities: identities.length,
                aliases: person.keys.filter((key) => key.kind === 'alias').length,
                merges: person.merges.length,
                audit_entries: person.audit.length,
                webhook_events_dropped: eventIds.length - delivered.size,
                webhook_events_redacted: delivered.size,
                link_requests: linkRequests,
                suppressed,
              },
            },
          });
          return { customer_id: customerId, erased_at: erasedAt, identity_ids: identityIds, suppressed };
        }),
      );
      await deps.afterErase?.();
      return erasure;
    },
  };
}
