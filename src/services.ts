import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Config } from './config.js';
import { createDb, type Db } from './db/create-db.js';
import { mapDbError } from './db/errors.js';
import { migrateToLatest } from './db/migrate.js';
import { type Listener, listen } from './db/pg-listener.js';
import { createApiKeysService } from './features/api-keys/api-keys.service.js';
import { createAuditService } from './features/audit/audit.service.js';
import { ChangeHub, decodeChanges, NOTIFY_CHANNEL } from './features/changes/changes.js';
import { commitsInProcess, createUnitOfWork } from './features/changes/unit-of-work.js';
import { resolveClaimSecret } from './features/claims/claim-secret.js';
import { createClaimsService } from './features/claims/claims.service.js';
import { createCustomersService } from './features/customers/customers.service.js';
import { createIdentitiesService } from './features/identities/identities.service.js';
import { LookupCache } from './features/identities/lookup-cache.js';
import { createClaimThrottle } from './features/throttle/claim-throttle.js';
import type { CounterStore } from './features/throttle/counter-store.js';
import { createMemoryCounterStore } from './features/throttle/memory-counter-store.js';
import { createRedisCounterStore } from './features/throttle/redis-counter-store.js';
import { type Clock, cryptoRandom, type Random, systemClock } from './internal/clock.js';

/** How long (ms) SQLite's answer to "has another process committed?" is reused (see below). */
const EXTERNAL_CHANGES_REUSE_MS = 10;

/** What the services need to report; pino's logger fits, and so does a console for the CLI. */
export interface ServiceLogger {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface ServiceOptions {
  clock?: Clock;
  random?: Random;
  logger: ServiceLogger;
  /** Follow other replicas' changes through PostgreSQL LISTEN (the server does; the CLI does not). */
  listenForChanges?: boolean;
}

/**
 * Opens the database, migrates it, and wires every service. Shared by the server and the command
 * line, so that both apply the same rules to the same database.
 */
export async function createServices(config: Config, options: ServiceOptions) {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const log = options.logger;
  const db: Db = createDb(config.database, {
    onPoolError: (error) => log.warn({ err: error }, 'database connection lost'),
  });
  try {
    await mapDbError(() => migrateToLatest(db.kysely));
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const hub = new ChangeHub();
  const origin = randomUUID();
  const uow = createUnitOfWork({ db: db.kysely, clock, hub, origin });
  const lookupCache = new LookupCache(config.lookupCache, hub);

  let listener: Listener | undefined;
  if (options.listenForChanges && config.database.kind === 'postgres') {
    listener = listen({
      url: config.database.url,
      channel: NOTIFY_CHANNEL,
      onNotification: (payload) => {
        const message = decodeChanges(payload);
        if (!message) return;
        if (message.origin !== origin) hub.publish(message.changes);
      },
      onReconnect: () => hub.publish({ identities: [], apiKeyHashes: [], reset: true }),
      onError: (error) => log.warn({ err: error }, 'change listener lost its connection'),
    });
  }

  // SQLite has no NOTIFY: when another process (the command line) has committed to the file since
  // the last look, every cache of this process is dropped before it answers from one.
  let dataVersion = db.dataVersion?.();
  // An answer is reused for 10 ms, unless this process has committed since (another app of it on
  // the same file may have written): the question costs file-lock system calls (two fcntl and an
  // fstat: 5 µs in a tight loop, about 45 µs in a loaded server, measured), which asked every
  // millisecond took some 4 % of the server's time at 8,000 lookups/s. Another process's commit
  // (the command line's) is then seen by every request that starts 10 ms after it.
  let askedAt = Number.NEGATIVE_INFINITY;
  let commitsSeen = -1;
  const syncExternalChanges = db.dataVersion
    ? () => {
        const at = performance.now();
        const commits = commitsInProcess();
        if (at - askedAt < EXTERNAL_CHANGES_REUSE_MS && commits === commitsSeen) return;
        askedAt = at;
        commitsSeen = commits;
        const now = db.dataVersion?.();
        if (now === dataVersion) return;
        dataVersion = now;
        hub.publish({ identities: [], apiKeyHashes: [], reset: true });
      }
    : undefined;

  const secret = await resolveClaimSecret(db.kysely, config.claimCodeSecret, random);
  const apiKeys = createApiKeysService({
    db: db.kysely,
    uow,
    clock,
    random,
    hub,
    syncExternalChanges,
    onBackgroundError: (error) => log.warn({ err: error }, 'could not record when an API key was used'),
  });
  if (config.bootstrapApiKey) await apiKeys.ensureBootstrapKey(config.bootstrapApiKey);

  // Throttling counters: in Redis when replicas must share them, else in this process.
  const counters: CounterStore = config.rateLimit.redisUrl
    ? createRedisCounterStore(config.rateLimit.redisUrl, {
        prefix: config.rateLimit.redisPrefix,
        onError: (error) => log.warn({ err: error }, 'rate-limit store (Redis) error'),
      })
    : createMemoryCounterStore(() => clock.now().getTime());

  return {
    db,
    hub,
    counters,
    lookupCache,
    clock,
    customers: createCustomersService({ db: db.kysely, uow, clock }),
    identities: createIdentitiesService({
      db: db.kysely,
      uow,
      clock,
      cache: lookupCache,
      syncExternalChanges,
      readQuery: db.readQuery,
      namedQuery: db.namedQuery,
    }),
    claims: createClaimsService({
      db: db.kysely,
      uow,
      clock,
      random,
      secret,
      ttlSeconds: config.claimCodeTtlSeconds,
      throttle: createClaimThrottle(counters, {
        perIdentity: config.rateLimit.claimPerIdentity,
        perKey: config.rateLimit.claimPerKey,
        windowMs: config.rateLimit.windowMs,
      }),
    }),
    apiKeys,
    audit: createAuditService({ db: db.kysely }),
    /** Throws 503 when the database does not answer. */
    async ping() {
      await mapDbError(() => sql`select 1`.execute(db.kysely));
    },
    async close() {
      await listener?.close();
      await counters.close();
      await db.destroy();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
