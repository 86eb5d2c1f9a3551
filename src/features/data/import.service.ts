import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { isPostgres } from '../../db/dialect.js';
import { classifyDbError, mapDbError } from '../../db/errors.js';
import { createScrubber } from '../../internal/log-redaction.js';
import type { Actor } from '../changes/changes.js';
import type { UnitOfWork } from '../changes/unit-of-work.js';
import { toCustomer } from '../customers/customers.js';
import type { CustomerRow } from '../customers/customers.table.js';
import { toIdentity } from '../identities/identities.js';
import type { IdentityRow } from '../identities/identities.table.js';
import { liveMergeTargetsOf } from '../merges/merges.repository.js';
import { type SuppressibleValue, suppressedDetail } from '../privacy/suppression.js';
import type { SuppressionsService } from '../privacy/suppressions.service.js';
import {
  existingEmails,
  existingIds,
  identitiesOfChannel,
  insertAliasRows,
  insertCustomerRows,
  insertIdentityRows,
  settleAfterImport,
  tuneForImport,
} from './data.repository.js';
import { identityKey, type PreparedCustomer, type PreparedRecord } from './data-record.js';

/** A line (or, in CSV, the lines of one customer) that was skipped, and why. */
export interface BadLine {
  line: number;
  lastLine: number;
  message: string;
}

export interface ImportCounts {
  customers: number;
  identities: number;
  skipped: number;
}

export interface ImportSummary extends ImportCounts {
  /** The first bad lines (at most MAX_KEPT_BAD_LINES); `onBadLine` sees every one. */
  badLines: BadLine[];
  seconds: number;
}

export interface ImportOptions {
  /** Named in the audit trail, e.g. the file's name. */
  source: string;
  /** Customers per transaction. */
  batchSize?: number;
  onBadLine?: (bad: BadLine) => void;
  onProgress?: (counts: ImportCounts) => void;
  /**
   * Milliseconds without the write lock between batches, so that a server on the same SQLite file
   * can write meanwhile (it tries every 2 ms: unit-of-work.ts); default 4 on SQLite, 0 on
   * PostgreSQL (whose locks are rows, not the database).
   */
  yieldMs?: number;
  /** Milliseconds of writing (batches one after the other) before the next pause; default 100. */
  pauseEveryMs?: number;
  /** Customers written from which the import ends by settling the tables (settleAfterImport); default 10,000. */
  settleFrom?: number;
}

interface Item extends PreparedCustomer {
  line: number;
  lastLine: number;
}

export const DEFAULT_BATCH_SIZE = 1_000;
/** See ImportOptions.settleFrom: below it, PostgreSQL's autovacuum is soon enough. */
const SETTLE_FROM_CUSTOMERS = 10_000;
const MAX_KEPT_BAD_LINES = 1_000;
/** See ImportOptions.yieldMs. */
const SQLITE_YIELD_MS = 4;
/**
 * Writing time between two pauses (ImportOptions.pauseEveryMs): a server's write waits at most
 * about this long for the lock (SQLITE_WRITE_WAIT_MS is 1,000 by default). A pause after every
 * batch (25–35 ms each) cost 10–14 % of a million-customer import; one per 50 ms 7–10 %; one per
 * 100 ms made 1M customers 2 s faster than one per 50 ms (18.4–18.8 against 20.4–20.9 s).
 */
const SQLITE_PAUSE_EVERY_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type ImportService = ReturnType<typeof createImportService>;

/**
 * Bulk import: every line is checked and normalized whole before anything is written, then
 * batches of customers go in one transaction each, with multi-row INSERTs and one audit event per
 * batch (not per row: a million rows of audit would double the import's cost and drown the
 * trail). A batch goes in as it is; if the database refuses it (a unique key taken), it is rolled
 * back, the lines that conflict with the database or with earlier lines are found and skipped, and
 * the rest goes in; if a concurrent writer still wins a race, that batch is retried a line at a
 * time, so one conflict never costs the rest of its batch.
 */
export function createImportService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  /** Lines holding an erased, suppressed person's email or account are reported, not written. */
  suppressions?: Pick<SuppressionsService, 'suppressedGroups'> | undefined;
}) {
  const { db, uow } = deps;

  /** The batch without its lines that would bring back an erased, suppressed person. */
  async function withoutSuppressed(batch: Item[], bad: (line: number, lastLine: number, message: string) => void) {
    if (!deps.suppressions) return batch;
    const { suppressions } = deps;
    const blocked = await mapDbError(() => suppressions.suppressedGroups(db, batch, valuesOfItem));
    if (blocked.size === 0) return batch;
    for (const [item, value] of blocked) bad(item.line, item.lastLine, suppressedDetail(value));
    return batch.filter((item) => !blocked.has(item));
  }

  /** Lines of this batch that clash with the database or with an earlier line of the batch. */
  async function findConflicts(items: Item[]): Promise<Map<Item, string>> {
    const conflicts = new Map<Item, string>();
    const byChannel = new Map<string, string[]>();
    for (const item of items) {
      for (const key of [...item.identities, ...item.aliases]) {
        const list = byChannel.get(key.channel) ?? [];
        list.push(key.external_id);
        byChannel.set(key.channel, list);
      }
    }
    // Ids the import made itself (UUIDv7) cannot be taken; only the file's own ids are looked up.
    const [emails, customerIds, identityIds] = await Promise.all([
      existingEmails(
        db,
        items.map((i) => i.customer.email),
      ),
      existingIds(
        db,
        'customers',
        items.filter((i) => i.givenIds).map((i) => i.customer.id),
      ),
      existingIds(
        db,
        'identities',
        items.filter((i) => i.givenIds).flatMap((i) => i.identities.map((x) => x.id)),
      ),
    ]);
    const keys = new Set<string>();
    for (const [channel, externalIds] of byChannel) {
      for (const row of await identitiesOfChannel(db, channel, externalIds)) {
        keys.add(identityKey(channel, row.external_id, row.instance_id));
      }
    }

    for (const item of items) {
      const problem = conflictOf(item, emails, customerIds, identityIds, keys);
      if (problem) {
        conflicts.set(item, problem);
        continue;
      }
      // Taken from here on: a later line of the batch with the same values is the duplicate.
      emails.add(item.customer.email);
      customerIds.add(item.customer.id);
      for (const identity of item.identities) {
        identityIds.add(identity.id);
        keys.add(identityKey(identity.channel, identity.external_id, identity.instance_id));
      }
      for (const alias of item.aliases) keys.add(identityKey(alias.channel, alias.external_id, alias.scope || null));
    }
    return conflicts;
  }

  async function insert(actor: Actor, items: Item[], source: string) {
    await uow(actor, async (trx, fx) => {
      // Checked in the transaction that writes them: a merge that takes a customer away commits
      // either before (its id is refused here) or after (the merge finds the customer there).
      const mergedAway = await liveMergeTargetsOf(
        trx,
        items.filter((i) => i.givenIds).map((i) => i.customer.id),
      );
      if (mergedAway.size > 0) throw new MergedAwayIds(mergedAway);
      await insertCustomerRows(
        trx,
        items.map((i) => i.customer),
      );
      const identities = items.flatMap((i) => i.identities);
      await insertIdentityRows(trx, identities);
      const aliases = items.flatMap((i) => i.aliases);
      await insertAliasRows(trx, aliases);
      for (const identity of identities) fx.identityChanged(identity.channel, identity.external_id);
      for (const alias of aliases) fx.identityChanged(alias.channel, alias.external_id);
      const [first, last] = [items[0], items.at(-1)];
      await fx.audit({
        action: 'customers.imported',
        after: {
          source,
          lines: [first?.line, last?.lastLine],
          customers: items.length,
          identities: identities.length,
        },
        // Webhooks get one customer.created per customer and one identity.linked per identity,
        // built only when a subscription wants them (the rows are complete: see data-record.ts).
        created: () => {
          const aliasesOf = new Map<string, string[]>();
          for (const alias of aliases)
            aliasesOf.set(alias.identity_id, [...(aliasesOf.get(alias.identity_id) ?? []), alias.external_id]);
          return {
            customers: items.map((i) => toCustomer(i.customer as CustomerRow)),
            identities: identities.map((row) => toIdentity(row as IdentityRow, aliasesOf.get(row.id) ?? [])),
          };
        },
      });
    });
  }

  /**
   * Imports records that are already checked and normalized: from a file, by preparedRecordsOfFile
   * (on a second thread); from memory, by prepareRecords.
   */
  async function importPrepared(
    actor: Actor,
    records: AsyncIterable<PreparedRecord>,
    options: ImportOptions,
  ): Promise<ImportSummary> {
    const started = performance.now();
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    const counts: ImportCounts = { customers: 0, identities: 0, skipped: 0 };
    const badLines: BadLine[] = [];
    const bad = (line: number, lastLine: number, message: string) => {
      counts.skipped++;
      // The rules' messages may quote what they refused (a phone number read two ways); the report does not.
      const entry = { line, lastLine, message: withoutPersonalValues(message) };
      if (badLines.length < MAX_KEPT_BAD_LINES) badLines.push(entry);
      options.onBadLine?.(entry);
    };

    const yieldMs = options.yieldMs ?? (isPostgres(db) ? 0 : SQLITE_YIELD_MS);
    const pauseEveryMs = options.pauseEveryMs ?? SQLITE_PAUSE_EVERY_MS;
    let writingSince = performance.now();
    const flush = async (lines: Item[]) => {
      const batch = await withoutSuppressed(lines, bad);
      if (batch.length > 0) await write(batch);
      options.onProgress?.(counts);
      if (yieldMs > 0 && performance.now() - writingSince >= pauseEveryMs) {
        await sleep(yieldMs);
        writingSince = performance.now();
      }
    };
    /** Writes the items but those whose customer id a merge took away (reported); returns those written. */
    const insertLive = async (items: Item[]): Promise<Item[]> => {
      let left = items;
      while (left.length > 0) {
        try {
          await mapDbError(() => insert(actor, left, options.source));
          return left;
        } catch (error) {
          if (!(error instanceof MergedAwayIds)) throw error;
          left = left.filter((item) => {
            const into = error.into.get(item.customer.id);
            if (into === undefined) return true;
            bad(item.line, item.lastLine, mergedAwayMessage(item.customer.id, into));
            return false;
          });
        }
      }
      return left;
    };
    const write = async (batch: Item[]) => {
      // Most batches clash with nothing: they go in at once. Only when the database refuses one (a
      // line repeats another, or data already there) are its lines checked to find the culprits.
      try {
        count(await insertLive(batch));
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      const conflicts = await mapDbError(() => findConflicts(batch));
      const accepted = batch.filter((item) => !conflicts.has(item));
      for (const [item, problem] of conflicts) bad(item.line, item.lastLine, problem);
      if (accepted.length === 0) return;
      try {
        count(await insertLive(accepted));
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Someone else wrote the same values meanwhile: one line at a time, so only theirs fail.
        for (const item of accepted) {
          try {
            count(await insertLive([item]));
          } catch (lineError) {
            if (!isConflict(lineError)) throw lineError;
            bad(item.line, item.lastLine, 'conflicts with data written meanwhile (email, id or channel identity)');
          }
        }
      }
    };
    const count = (items: Item[]) => {
      counts.customers += items.length;
      for (const item of items) counts.identities += item.identities.length;
    };

    const restore = await mapDbError(() => tuneForImport(db));
    try {
      let batch: Item[] = [];
      for await (const { line, lastLine, prepared, error } of records) {
        if (!prepared) {
          bad(line, lastLine, error ?? 'unreadable line');
          continue;
        }
        batch.push({ line, lastLine, ...prepared });
        if (batch.length >= batchSize) {
          await flush(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await flush(batch);
    } finally {
      await mapDbError(restore);
    }
    if (counts.customers >= (options.settleFrom ?? SETTLE_FROM_CUSTOMERS))
      await mapDbError(() => settleAfterImport(db));
    return { ...counts, badLines, seconds: (performance.now() - started) / 1000 };
  }

  return { importPrepared };
}

const withoutPersonalValues = createScrubber([]);

/**
 * Why a line clashes with the database or an earlier line. Never the email or the external id:
 * the report is read in terminals and CI logs, and the line number finds the value in the file.
 */
function conflictOf(
  item: Item,
  emails: Set<string>,
  customerIds: Set<string>,
  identityIds: Set<string>,
  keys: Set<string>,
): string | undefined {
  if (emails.has(item.customer.email)) return 'a customer with this email already exists';
  if (customerIds.has(item.customer.id)) return `a customer with id ${item.customer.id} already exists`;
  for (const [i, identity] of item.identities.entries()) {
    if (identityIds.has(identity.id)) return `identities.${i}: an identity with id ${identity.id} already exists`;
    if (keys.has(identityKey(identity.channel, identity.external_id, identity.instance_id))) {
      const scope = identity.instance_id ? ` in instance ${identity.instance_id}` : '';
      return `identities.${i}: this ${identity.channel} identity${scope} is already linked to a customer`;
    }
  }
  for (const alias of item.aliases) {
    if (keys.has(identityKey(alias.channel, alias.external_id, alias.scope || null))) {
      return `an alias (${alias.channel}) is already linked to a customer`;
    }
  }
  return undefined;
}

/** Customer ids of a batch that a live merge took away (see insert), with where each went. */
class MergedAwayIds extends Error {
  override name = 'MergedAwayIds';
  constructor(readonly into: Map<string, string>) {
    super('customer ids merged away');
  }
}

/**
 * Such an id must not come back as a customer of its own: it answers 410 with where it went, and
 * its merge can only be undone while the id is free.
 */
const mergedAwayMessage = (id: string, into: string) =>
  `customer ${id} was merged into ${into}; undo that merge to bring it back (POST /v1/merges/{merge_id}/undo)`;

const valuesOfItem = (item: Item): SuppressibleValue[] => [
  { email: item.customer.email },
  ...item.identities.map((identity) => ({ channel: identity.channel, external_id: identity.external_id })),
  ...item.aliases.map((alias) => ({ channel: alias.channel, external_id: alias.external_id })),
];

function isConflict(error: unknown): boolean {
  const kind = classifyDbError(error);
  return kind === 'unique' || kind === 'foreign_key';
}
