import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import { type Clock, isoNow } from '../../internal/clock.js';
import { FieldError, notFound } from '../../internal/errors.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { normalizeEmail } from '../customers/customers.js';
import { type IdentityRules, normalizeIdentityKey } from '../identities/identities.js';
import {
  channelOf,
  kindOf,
  SuppressedError,
  type SuppressibleValue,
  type Suppression,
  suppressionHash,
  suppressionKey,
} from './suppression.js';
import {
  anySuppression,
  deleteSuppression,
  findSuppressedHashes,
  insertSuppressions,
  listSuppressions,
} from './suppressions.repository.js';

export type SuppressionsService = ReturnType<typeof createSuppressionsService>;

/** A value as an operator types it: an email, or a channel and an external id. */
export interface RawSuppressibleValue {
  channel?: string | undefined;
  external_id?: string | undefined;
  email?: string | undefined;
}

export function createSuppressionsService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  uow: UnitOfWork;
  /** The server secret (see claim-secret.ts): every replica derives the same key from it. */
  secret: string;
  rules?: IdentityRules | undefined;
}) {
  const key = suppressionKey(deps.secret);
  const hash = (value: SuppressibleValue) => suppressionHash(key, value);

  /** Normalized as the service normalizes what it stores; exactly one of the two forms. */
  function normalize(raw: RawSuppressibleValue): SuppressibleValue {
    const { channel, external_id, email } = raw;
    if (email !== undefined && channel === undefined && external_id === undefined) {
      return { email: normalizeEmail(email) };
    }
    if (email === undefined && channel !== undefined && external_id !== undefined) {
      return normalizeIdentityKey({ channel, external_id }, 'body', deps.rules);
    }
    throw new FieldError(['body'], 'Value error, give either email, or channel and external_id');
  }

  /** The first of these (normalized) values that is suppressed, if any. */
  async function firstSuppressed(
    db: Executor,
    values: readonly SuppressibleValue[],
  ): Promise<SuppressibleValue | undefined> {
    if (values.length === 0) return undefined;
    const hashes = values.map(hash);
    const found = await findSuppressedHashes(db, hashes);
    if (found.size === 0) return undefined;
    return values.find((_, i) => found.has(hashes[i] as string));
  }

  return {
    /**
     * Throws a 409 when the value (normalized as stored: see identities.ts, customers.ts) belongs to
     * an erased person whose values are suppressed. Every path that could bring a person back asks
     * this, inside its own transaction.
     */
    async assertNotSuppressed(db: Executor, value: SuppressibleValue | readonly SuppressibleValue[]): Promise<void> {
      const values = Array.isArray(value) ? (value as readonly SuppressibleValue[]) : [value as SuppressibleValue];
      const suppressed = await firstSuppressed(db, values);
      if (suppressed) throw new SuppressedError(suppressed);
    },

    /**
     * For a batch (the import): which of these groups of values hold a suppressed one. Nothing is
     * hashed while nothing is suppressed at all, so that an import pays one query a batch.
     */
    async suppressedGroups<T>(db: Executor, groups: readonly T[], valuesOf: (group: T) => SuppressibleValue[]) {
      const blocked = new Map<T, SuppressibleValue>();
      if (!(await anySuppression(db))) return blocked;
      const hashed = groups.map((group) => valuesOf(group).map((value) => [value, hash(value)] as const));
      const found = await findSuppressedHashes(
        db,
        hashed.flatMap((pairs) => pairs.map(([, h]) => h)),
      );
      groups.forEach((group, i) => {
        const hit = hashed[i]?.find(([, h]) => found.has(h));
        if (hit) blocked.set(group, hit[0]);
      });
      return blocked;
    },

    /** Keeps these values' hashes (in the erasing transaction); returns how many distinct values. */
    async suppress(trx: Executor, values: readonly SuppressibleValue[]): Promise<number> {
      const now = isoNow(deps.clock);
      const rows = new Map<string, SuppressibleValue>();
      for (const value of values) rows.set(hash(value), value);
      await insertSuppressions(
        trx,
        [...rows].map(([value_hash, value]) => ({
          id: randomUUID(),
          kind: kindOf(value),
          channel: channelOf(value),
          value_hash,
          created_at: now,
        })),
      );
      return rows.size;
    },

    list(): Promise<Suppression[]> {
      return mapDbError(() => listSuppressions(deps.db));
    },

    /** Lets a value come back; 404 when it was not suppressed. Audited without the value. */
    async lift(actor: Actor, raw: RawSuppressibleValue): Promise<void> {
      const value = normalize(raw);
      await mapDbError(() =>
        deps.uow(actor, async (trx, fx) => {
          if (!(await deleteSuppression(trx, hash(value)))) throw notFound('Suppression');
          await fx.audit({ action: 'suppression.lifted', after: { kind: kindOf(value), channel: channelOf(value) } });
        }),
      );
    },
  };
}
