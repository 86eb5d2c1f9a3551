import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { toCustomer } from '../customers/customers.js';
import { toIdentity } from '../identities/identities.js';
import { aliasesOf } from '../identities/identities.repository.js';
import type { IdentityRow } from '../identities/identities.table.js';
import { customersAfter, identitiesOfCustomers } from './data.repository.js';

const PAGE = 1_000;

/**
 * JSON Lines, one customer a line with its identities, oldest first: exactly what import reads,
 * with ids and timestamps, so that export → import → export gives the same file. Claim codes
 * (short-lived secrets), API keys and the audit trail are not part of it.
 */
export async function* exportLines(db: Kysely<Database>): AsyncGenerator<string> {
  let after: { at: string; id: string } | undefined;
  for (;;) {
    const customers = await mapDbError(() => customersAfter(db, after, PAGE));
    if (customers.length === 0) return;
    const identities = await mapDbError(() =>
      identitiesOfCustomers(
        db,
        customers.map((c) => c.id),
      ),
    );
    const aliases = await mapDbError(() =>
      aliasesOf(
        db,
        identities.map((i) => i.id),
      ),
    );
    const byCustomer = new Map<string, IdentityRow[]>();
    for (const row of identities) {
      const list = byCustomer.get(row.customer_id) ?? [];
      list.push(row);
      byCustomer.set(row.customer_id, list);
    }
    let text = '';
    for (const row of customers) {
      const customer = toCustomer(row);
      const linked = (byCustomer.get(row.id) ?? []).map((identity) => {
        const { customer_id: _, ...rest } = toIdentity(identity, aliases.get(identity.id) ?? []);
        return rest;
      });
      text += `${JSON.stringify({ ...customer, identities: linked })}\n`;
    }
    yield text;
    const last = customers.at(-1) as (typeof customers)[number];
    after = { at: last.created_at, id: last.id };
    if (customers.length < PAGE) return;
  }
}
