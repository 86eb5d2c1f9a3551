import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { conflict, notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { keysOfCustomer, listIdentityRowsOfCustomer } from '../identities/identities.repository.js';
import type { SuppressionGuard } from '../privacy/suppression.js';
import { decodeCursor, toPage } from '../shared/cursor.js';
import { type Customer, normalizeEmail, toCustomer } from './customers.js';
import {
  deleteCustomer,
  findCustomerById,
  insertCustomer,
  listCustomers,
  lockCustomerById,
  updateCustomer,
} from './customers.repository.js';
import type { CustomerUpdate } from './customers.table.js';

export interface NewCustomer {
  email: string;
  name?: string | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface CustomerPatch {
  email?: string | undefined;
  name?: string | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface CustomerListQuery {
  email?: string | undefined;
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export const emailTaken = () => conflict('A customer with this email already exists');
const customerNotFound = () => notFound('Customer');

export type CustomersService = ReturnType<typeof createCustomersService>;

export function createCustomersService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  /** Refuses the email of an erased, suppressed person. */
  suppressions?: SuppressionGuard | undefined;
}) {
  const { db, uow, clock } = deps;

  async function get(id: string): Promise<Customer> {
    const row = await mapDbError(() => findCustomerById(db, id));
    if (!row) throw customerNotFound();
    return toCustomer(row);
  }

  return {
    get,

    async create(actor: Actor, input: NewCustomer): Promise<Customer> {
      const now = isoNow(clock);
      return mapDbError(
        () =>
          uow(actor, async (trx, fx) => {
            const email = normalizeEmail(input.email);
            await deps.suppressions?.assertNotSuppressed(trx, { email });
            const customer = toCustomer(
              await insertCustomer(trx, {
                id: randomUUID(),
                email,
                name: input.name ?? null,
                metadata: JSON.stringify(input.metadata ?? {}),
                created_at: now,
                updated_at: now,
              }),
            );
            await fx.audit({ action: 'customer.created', customerId: customer.id, after: customer });
            return customer;
          }),
        { unique: emailTaken },
      );
    },

    async list(query: CustomerListQuery) {
      const before = decodeCursor(query.cursor);
      const rows = await mapDbError(() =>
        listCustomers(db, {
          email: query.email === undefined ? undefined : normalizeEmail(query.email),
          q: query.q?.trim() || undefined,
          limit: query.limit + 1,
          before,
        }),
      );
      return toPage(rows, query.limit, toCustomer, (row) => ({ at: row.created_at, id: row.id }));
    },

    async update(actor: Actor, id: string, patch: CustomerPatch): Promise<Customer> {
      return mapDbError(
        () =>
          uow(actor, async (trx, fx) => {
            const row = await lockCustomerById(trx, id);
            if (!row) throw customerNotFound();
            const update: CustomerUpdate = {};
            if (patch.email !== undefined) update.email = normalizeEmail(patch.email);
            if (patch.name !== undefined) update.name = patch.name;
            if (patch.metadata !== undefined) update.metadata = JSON.stringify(patch.metadata);
            const changed = Object.entries(update).some(([k, v]) => row[k as keyof typeof row] !== v);
            if (!changed) return toCustomer(row);
            if (update.email !== undefined && update.email !== row.email)
              await deps.suppressions?.assertNotSuppressed(trx, { email: update.email });
            update.updated_at = isoNow(clock);
            const after = toCustomer(await updateCustomer(trx, id, update));
            if (after.email !== row.email) {
              // The lookup body carries the customer's email.
              for (const key of await keysOfCustomer(trx, id)) fx.identityChanged(key.channel, key.external_id);
            }
            await fx.audit({ action: 'customer.updated', customerId: id, before: toCustomer(row), after });
            return after;
          }),
        { unique: emailTaken },
      );
    },

    async delete(actor: Actor, id: string): Promise<void> {
      await mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const row = await lockCustomerById(trx, id);
          if (!row) throw customerNotFound();
          const identities = await listIdentityRowsOfCustomer(trx, id);
          // Every key of every identity (aliases too), read before they go.
          for (const key of await keysOfCustomer(trx, id)) fx.identityChanged(key.channel, key.external_id);
          // Identities, their keys and claim codes go with the customer (ON DELETE CASCADE).
          await deleteCustomer(trx, id);
          await fx.audit({
            action: 'customer.deleted',
            customerId: id,
            before: { ...toCustomer(row), identities: identities.length },
          });
        }),
      );
    },
  };
}
