import type { PreparedAlias, PreparedCustomer, PreparedRecord } from './data-record.js';

/**
 * How prepared records cross from the import's reading thread to its writing thread: as arrays of
 * values in a fixed order, not as objects. A structured clone carries every property name of
 * every object along with its value, and the writing thread (the import's busy one) spent an
 * eighth of its time rebuilding the records (perf); arrays carry the values only.
 */
type Customer = PreparedCustomer['customer'];
type Identity = PreparedCustomer['identities'][number];

type CustomerWire = [
  id: Customer['id'],
  email: Customer['email'],
  name: Customer['name'],
  name_search: Customer['name_search'],
  metadata: Customer['metadata'],
  created_at: Customer['created_at'],
  updated_at: Customer['updated_at'],
];
type IdentityWire = [
  id: Identity['id'],
  customer_id: Identity['customer_id'],
  channel: Identity['channel'],
  external_id: Identity['external_id'],
  instance_id: Identity['instance_id'],
  display_name: Identity['display_name'],
  role_override: Identity['role_override'],
  verified_at: Identity['verified_at'],
  verified_via: Identity['verified_via'],
  metadata: Identity['metadata'],
  created_at: Identity['created_at'],
  updated_at: Identity['updated_at'],
];
type AliasWire = [identity_id: string, channel: string, external_id: string, scope: string, created_at: string];

/** A record as sent: its lines, then either why it cannot be imported or the customer to insert. */
export type RecordWire =
  | [line: number, lastLine: number, error: string]
  | [
      line: number,
      lastLine: number,
      error: null,
      givenIds: boolean,
      customer: CustomerWire,
      identities: IdentityWire[],
      aliases: AliasWire[],
    ];

const customerWire = (c: Customer): CustomerWire => [
  c.id,
  c.email,
  c.name,
  c.name_search,
  c.metadata,
  c.created_at,
  c.updated_at,
];

const identityWire = (i: Identity): IdentityWire => [
  i.id,
  i.customer_id,
  i.channel,
  i.external_id,
  i.instance_id,
  i.display_name,
  i.role_override,
  i.verified_at,
  i.verified_via,
  i.metadata,
  i.created_at,
  i.updated_at,
];

const aliasWire = (a: PreparedAlias): AliasWire => [a.identity_id, a.channel, a.external_id, a.scope, a.created_at];

export function toWire(record: PreparedRecord): RecordWire {
  const { line, lastLine, prepared } = record;
  if (!prepared) return [line, lastLine, record.error ?? 'unreadable line'];
  return [
    line,
    lastLine,
    null,
    prepared.givenIds,
    customerWire(prepared.customer),
    prepared.identities.map(identityWire),
    prepared.aliases.map(aliasWire),
  ];
}

export function fromWire(wire: RecordWire): PreparedRecord {
  if (wire[2] !== null) return { line: wire[0], lastLine: wire[1], error: wire[2] };
  const [line, lastLine, , givenIds, c, identities, aliases] = wire;
  return {
    line,
    lastLine,
    prepared: {
      givenIds,
      customer: {
        id: c[0],
        email: c[1],
        name: c[2],
        name_search: c[3],
        metadata: c[4],
        created_at: c[5],
        updated_at: c[6],
      },
      identities: identities.map((i) => ({
        id: i[0],
        customer_id: i[1],
        channel: i[2],
        external_id: i[3],
        instance_id: i[4],
        display_name: i[5],
        role_override: i[6],
        verified_at: i[7],
        verified_via: i[8],
        metadata: i[9],
        created_at: i[10],
        updated_at: i[11],
      })),
      aliases: aliases.map((a) => ({
        identity_id: a[0],
        channel: a[1],
        external_id: a[2],
        scope: a[3],
        created_at: a[4],
      })),
    },
  };
}
