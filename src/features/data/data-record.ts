import { type Static, Type } from '@sinclair/typebox';
import { FieldError } from '../../internal/errors.js';
import { customerInputFields } from '../customers/customer-fields.js';
import { nameSearchOf, normalizeEmail } from '../customers/customers.js';
import type { NewCustomerRow } from '../customers/customers.table.js';
import {
  DEFAULT_MAX_IDENTITIES_PER_CUSTOMER,
  type IdentityRules,
  identityLimitProblem,
  normalizeChannel,
  normalizeExternalId,
  refusePlaceholderExternalId,
  VERIFIED_VIA,
  type VerifiedVia,
} from '../identities/identities.js';
import type { NewIdentityRow } from '../identities/identities.table.js';
import { ExternalIdField, identityInputFields } from '../identities/identity-fields.js';
import { Nullable, Uuid } from '../shared/fields.js';
import { createValidatorCompiler } from '../validation/ajv.js';
import { toFastApiErrors } from '../validation/fastapi-errors.js';
import { JSON_MAX_DEPTH, nestedDeeperThan, tooDeepMessage } from '../validation/json-limits.js';
import type { SourceRecord } from './source-reader.js';
import { uuidV7 } from './uuid-v7.js';

/** ISO 8601 with a zone (`Z` or an offset); stored as UTC with milliseconds, as the API writes them. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const Time = () => Type.String({ maxLength: 40, description: 'ISO 8601 with Z or an offset' });

// The fields and limits of the API's create bodies (customer-fields.ts, identity-fields.ts),
// plus what an export carries: ids, timestamps and verification.
export const IdentityRecord = Type.Object({
  id: Type.Optional(Uuid()),
  ...identityInputFields(),
  verified: Type.Optional(Type.Boolean()),
  verified_at: Type.Optional(Nullable(Time())),
  verified_via: Type.Optional(
    Type.Unsafe<VerifiedVia | null>({
      type: ['string', 'null'],
      enum: [...VERIFIED_VIA, null],
    }),
  ),
  // As many as the API lets an identity have (it sets no number), so that an export imports.
  aliases: Type.Optional(Type.Array(ExternalIdField())),
  created_at: Type.Optional(Time()),
  updated_at: Type.Optional(Time()),
});

export const CustomerRecord = Type.Object({
  id: Type.Optional(Uuid()),
  ...customerInputFields(),
  created_at: Type.Optional(Time()),
  updated_at: Type.Optional(Time()),
  // How many: MAX_IDENTITIES_PER_CUSTOMER, checked by the preparer (identityLimitProblem).
  identities: Type.Optional(Type.Array(IdentityRecord)),
});

export type CustomerRecordInput = Static<typeof CustomerRecord>;

/** One customer with its identities, checked and normalized, ready to insert as it is. */
export interface PreparedCustomer {
  /** Whether the line named any id itself (else they are fresh UUIDv7s that cannot clash). */
  givenIds: boolean;
  customer: NewCustomerRow & { id: string; email: string; name_search: string | null };
  identities: (NewIdentityRow & { id: string; channel: string; external_id: string; instance_id: string | null })[];
  /** The identities' aliases, as identity_keys rows. */
  aliases: PreparedAlias[];
}

export interface PreparedAlias {
  identity_id: string;
  channel: string;
  external_id: string;
  /** The identity's instance_id, '' when unscoped. */
  scope: string;
  created_at: string;
}

/** A line that cannot be imported; the message names the field, as the API's 422 would. */
export class RecordError extends Error {
  override name = 'RecordError';
}

/** The key that must be unique among identities: (channel, external_id, instance scope). */
export const identityKey = (channel: string, externalId: string, instanceId: string | null | undefined) =>
  `${channel}\u0000${externalId}\u0000${instanceId ?? ''}`;

const where = (loc: readonly (string | number)[]) => loc.filter((part) => part !== 'body').join('.');

function timestamp(value: string | null | undefined, loc: string, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  const ms = Date.parse(value);
  if (!TIMESTAMP.test(value) || Number.isNaN(ms)) {
    throw new RecordError(`${loc}: Input should be a valid datetime with a time zone, e.g. 2019-08-24T14:15:22.000Z`);
  }
  return new Date(ms).toISOString();
}

/**
 * Checks a whole line with the API's own validator (the same Ajv keywords, limits and UUID
 * spellings) and normalizes it with the API's own rules, so that an imported identity is found
 * by the same lookup as one created over HTTP (`rules`: the service's, DEFAULT_PHONE_REGION).
 * Throws RecordError; never writes anything.
 */
export function createRecordPreparer(now: () => string, rules: IdentityRules = {}) {
  const maxIdentities = rules.maxIdentitiesPerCustomer ?? DEFAULT_MAX_IDENTITIES_PER_CUSTOMER;
  const validate = createValidatorCompiler()({
    schema: CustomerRecord,
    method: 'POST',
    url: '/import',
    httpPart: 'body',
  });

  return (value: unknown): PreparedCustomer => {
    // As the API's body parser does: the validator and the error's path recurse into the value.
    if (nestedDeeperThan(value, JSON_MAX_DEPTH)) throw new RecordError(tooDeepMessage(JSON_MAX_DEPTH));
    if (!validate(value)) {
      const [first] = toFastApiErrors('body', validate.errors ?? [], value);
      throw new RecordError(first ? `${where(first.loc) || 'line'}: ${first.msg}` : 'invalid line');
    }
    const input = value as CustomerRecordInput;
    const tooMany = identityLimitProblem(maxIdentities, 0, input.identities?.length ?? 0);
    if (tooMany) throw new RecordError(`identities: ${tooMany}`);
    const createdAt = timestamp(input.created_at, 'created_at', input.created_at ? '' : now());
    const customer = {
      id: input.id ?? uuidV7(),
      email: normalizeEmail(input.email),
      name: input.name ?? null,
      // Folded here, on the reading thread, so that the writing one only binds it.
      name_search: nameSearchOf(input.name),
      metadata: JSON.stringify(input.metadata ?? {}),
      created_at: createdAt,
      updated_at: timestamp(input.updated_at, 'updated_at', createdAt),
    };
    const seen = new Map<string, number>();
    const aliases: PreparedAlias[] = [];
    const identities = (input.identities ?? []).map((identity, i) => {
      try {
        const channel = normalizeChannel(identity.channel, ['identities', i, 'channel']);
        const externalId = normalizeExternalId(channel, identity.external_id, ['identities', i, 'external_id'], rules);
        refusePlaceholderExternalId(externalId, ['identities', i, 'external_id'], rules);
        const instanceId = identity.instance_id ?? null;
        const key = identityKey(channel, externalId, instanceId);
        const twin = seen.get(key);
        if (twin !== undefined) {
          throw new RecordError(`identities.${i}: the same channel identity as identities.${twin}`);
        }
        seen.set(key, i);
        const created = timestamp(identity.created_at, `identities.${i}.created_at`, createdAt);
        let verifiedAt = timestamp(identity.verified_at, `identities.${i}.verified_at`, '');
        if (identity.verified === false && verifiedAt) {
          throw new RecordError(`identities.${i}: verified is false but verified_at is set`);
        }
        if (identity.verified === true && !verifiedAt) verifiedAt = created;
        const via = identity.verified_via ?? null;
        if (via !== null && !verifiedAt) {
          throw new RecordError(`identities.${i}: verified_via is set but the identity is not verified`);
        }
        const id = identity.id ?? uuidV7();
        for (const [j, raw] of (identity.aliases ?? []).entries()) {
          const alias = normalizeExternalId(channel, raw, ['identities', i, 'aliases', j], rules);
          refusePlaceholderExternalId(alias, ['identities', i, 'aliases', j], rules);
          const aliasKey = identityKey(channel, alias, instanceId);
          const other = seen.get(aliasKey);
          if (other !== undefined) {
            throw new RecordError(`identities.${i}.aliases.${j}: the same channel identity as identities.${other}`);
          }
          seen.set(aliasKey, i);
          // A millisecond apart, in the file's order: the API lists aliases oldest first, so an
          // export imports back with its aliases in the same order (the file has no alias times).
          const aliasAt = new Date(Date.parse(created) + j).toISOString();
          aliases.push({ identity_id: id, channel, external_id: alias, scope: instanceId ?? '', created_at: aliasAt });
        }
        return {
          id,
          customer_id: customer.id,
          channel,
          external_id: externalId,
          instance_id: instanceId,
          display_name: identity.display_name ?? null,
          role_override: identity.role_override ?? null,
          verified_at: verifiedAt || null,
          verified_via: verifiedAt ? (via ?? 'operator') : null,
          metadata: JSON.stringify(identity.metadata ?? {}),
          created_at: created,
          updated_at: timestamp(identity.updated_at, `identities.${i}.updated_at`, created),
        };
      } catch (error) {
        if (error instanceof FieldError) throw new RecordError(`${where(error.loc)}: ${error.msg}`);
        throw error;
      }
    });
    const givenIds = input.id !== undefined || (input.identities ?? []).some((identity) => identity.id !== undefined);
    return { givenIds, customer, identities, aliases };
  };
}

/** One customer of a file, ready to insert, or why it cannot be: what the import consumes. */
export interface PreparedRecord {
  line: number;
  lastLine: number;
  prepared?: PreparedCustomer;
  error?: string;
}

/** Checks and normalizes records as they are read; `now` stamps those that carry no created_at. */
export async function* prepareRecords(
  records: AsyncIterable<SourceRecord>,
  now: () => string,
  rules: IdentityRules = {},
): AsyncGenerator<PreparedRecord> {
  const prepare = createRecordPreparer(now, rules);
  for await (const { line, lastLine, value, error } of records) {
    if (error !== undefined) {
      yield { line, lastLine, error };
      continue;
    }
    let outcome: PreparedRecord;
    try {
      outcome = { line, lastLine, prepared: prepare(value) };
    } catch (failure) {
      if (!(failure instanceof RecordError)) throw failure;
      outcome = { line, lastLine, error: failure.message };
    }
    yield outcome;
  }
}
