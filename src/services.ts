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
import { createChatNoticeDispatcher } from './features/channels/chat-notice-dispatcher.js';
import { createReplayGuard } from './features/channels/replay-guard.js';
import { resolveClaimSecret } from './features/claims/claim-secret.js';
import { createClaimsService } from './features/claims/claims.service.js';
import { createCustomersService } from './features/customers/customers.service.js';
import type { IdentityRules } from './features/identities/identities.js';
import { createIdentitiesService } from './features/identities/identities.service.js';
import { LookupCache } from './features/identities/lookup-cache.js';
import { createPlatformKeysService } from './features/identities/platform-keys.service.js';
import { SELF_SERVICE_FAILURES, SELF_SERVICE_WINDOW_MS } from './features/link-requests/link-requests.js';
import { createLinkRequestsService } from './features/link-requests/link-requests.service.js';
import { createMergesService } from './features/merges/merges.service.js';
import { createEraseService } from './features/privacy/erase.service.js';
import { createPersonExportService } from './features/privacy/person-export.service.js';
import { createRetentionService } from './features/privacy/retention.service.js';
import { createSuppressionsService } from './features/privacy/suppressions.service.js';
import { createClaimThrottle } from './features/throttle/claim-throttle.js';
import type { CounterStore } from './features/throttle/counter-store.js';
import { createLinkThrottle } from './features/throttle/link-throttle.js';
import { createMemoryCounterStore } from './features/throttle/memory-counter-store.js';
import { createRedisCounterStore } from './features/throttle/redis-counter-store.js';
import { createDispatcher } from './features/webhooks/dispatcher.js';
import { Outbox } from './features/webhooks/outbox.js';
import { type Resolver, systemResolver } from './features/webhooks/url-safety.js';
import { createWebhooksService } from './features/webhooks/webhooks.service.js';
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
  /**
   * Follow other replicas' changes through PostgreSQL LISTEN (the server does; the CLI does not).
   * Also what makes a server wait only briefly for another process's SQLite lock.
   */
  listenForChanges?: boolean;
  /** Run the webhook delivery loop (the server does, unless WEBHOOK_DELIVERY_ENABLED=false; the CLI does not). */
  deliverWebhooks?: boolean;
  /** Delete what is past its retention in the background (the server does; the CLI does not). */
  pruneInBackground?: boolean;
  /** How webhook hosts are resolved (DNS by default; tests pass their own). */
  resolveHost?: Resolver;
}

/**
 * Opens the database, migrates it, and wires every service. Shared by the server and the command
 * line, so that both apply the same rules to the same database.
 */
export async function createServices(config: Config, options: ServiceOptions) {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const log = options.logger;
  const bounds = config.statementTimeouts;
  const db: Db = createDb(config.database, {
    onPoolError: (error) => log.warn({ err: error }, 'database connection lost'),
    // The server bounds its lookups short and its other statements longer; the command line
    // (an import's batches, its VACUUM) longer still.
    timeouts: options.listenForChanges
      ? { lookupMs: bounds.lookupMs, otherMs: bounds.serverMs }
      : { lookupMs: bounds.commandLineMs, otherMs: bounds.commandLineMs },
  });
  try {
    await mapDbError(() => migrateToLatest(db.kysely));
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const identityRules: IdentityRules = {
    defaultPhoneRegion: config.defaultPhoneRegion,
    maxIdentitiesPerCustomer: config.maxIdentitiesPerCustomer,
    blockedExternalIds: config.blockedExternalIds,
  };
  const hub = new ChangeHub();
  const origin = randomUUID();
  const transactionRetries = { retried: 0, gave_up: 0 };
  const outbox = new Outbox();
  hub.subscribe((changes) => {
    if (changes.webhooks || changes.reset) outbox.invalidate();
  });
  const resolveHost = options.resolveHost ?? systemResolver;
  const dispatcher = createDispatcher({
    db: db.kysely,
    clock,
    log,
    options: {
      timeoutMs: config.webhooks.timeoutMs,
      allowPrivate: config.webhooks.allowPrivateUrls,
      resolve: resolveHost,
      concurrency: config.webhooks.concurrency,
      pollIntervalMs: config.webhooks.pollIntervalMs,
    },
  });
  // Messages to people on their chats (decisions on their link requests), from their own outbox.
  const chatNotices = createChatNoticeDispatcher({
    db: db.kysely,
    clock,
    log,
    senders: {
      telegram: { botToken: config.telegram.botToken, apiBase: config.telegram.apiBase },
      whatsapp: { accessToken: config.whatsapp.accessToken, apiBase: config.whatsapp.apiBase },
      slack: { botToken: config.slack.botToken, apiBase: config.slack.apiBase },
      discord: { botToken: config.discord.botToken, apiBase: config.discord.apiBase },
    },
    options: { pollIntervalMs: config.webhooks.pollIntervalMs, retentionMs: config.retention.webhookEventsMs },
  });
  const uow = createUnitOfWork({
    db: db.kysely,
    clock,
    hub,
    origin,
    retries: transactionRetries,
    retry: { waitMs: config.sqliteWriteWaitMs, pauseMs: 2 },
    outbox,
    onEventsWritten: () => dispatcher.wake(),
  });
  const lookupCache = new LookupCache(config.lookupCache, hub);

  // Other replicas' notices, as counted for /metrics: applied, this process's own (ignored), and
  // dropped because their shape is not ours (anyone who can connect may NOTIFY the channel).
  const changeNotices = { applied: 0, own: 0, dropped: 0 };
  let listener: Listener | undefined;
  if (options.listenForChanges && config.database.kind === 'postgres') {
    const resetAll = () => hub.publish({ identities: [], apiKeyHashes: [], reset: true });
    listener = listen({
      url: config.database.url,
      channel: NOTIFY_CHANNEL,
      ...config.changeListener,
      onNotification: (payload) => {
        const message = decodeChanges(payload);
        if (!message) {
          changeNotices.dropped++;
          log.warn(
            { channel: NOTIFY_CHANNEL, bytes: Buffer.byteLength(payload), start: payload.slice(0, 80) },
            'dropped a change notification of unknown shape',
          );
          return;
        }
        if (message.origin === origin) {
          changeNotices.own++;
          return;
        }
        changeNotices.applied++;
        hub.publish(message.changes);
      },
      onReconnect: resetAll,
      onLost: (reason) => {
        log.warn({ reason }, 'change listener lost its connection; caches start over');
        resetAll();
      },
      onError: (error) => log.warn({ err: error }, 'change listener error'),
    });
    // Follow other replicas before answering from caches.
    await listener.ready;
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
  const suppressions = createSuppressionsService({ db: db.kysely, clock, uow, secret, rules: identityRules });
  const retention = createRetentionService({
    db: db.kysely,
    clock,
    options: config.retention,
    onError: (error) => log.warn({ err: error }, 'could not prune what is past its retention'),
  });
  const apiKeys = createApiKeysService({
    db: db.kysely,
    uow,
    clock,
    random,
    hub,
    syncExternalChanges,
    onBackgroundError: (error) => log.warn({ err: error }, 'could not record when an API key was used'),
  });
  if (config.bootstrapApiKey) {
    const bootstrap = await apiKeys.ensureBootstrapKey(config.bootstrapApiKey);
    // A revocation stands (the key may have leaked): start without the key, and say so loudly.
    if (bootstrap.state === 'revoked') {
      log.error(
        { keyId: bootstrap.keyId, revokedAt: bootstrap.revokedAt },
        'BOOTSTRAP_API_KEY names a revoked key: starting without it (unset BOOTSTRAP_API_KEY, or bring the key back with `identity-service keys restore <keyId>`)',
      );
    } else if (bootstrap.state === 'not_admin') {
      log.error(
        { keyId: bootstrap.keyId, scope: bootstrap.scope },
        'BOOTSTRAP_API_KEY names a key that is not an admin key: it keeps its scope',
      );
    }
  }

  // A server must not block its event loop on another process's lock (see Db.shortenLockWaits);
  // the command line may wait.
  if (options.listenForChanges) db.shortenLockWaits();

  // Throttling counters: in Redis when replicas must share them, else in this process.
  const counters: CounterStore = config.rateLimit.redisUrl
    ? createRedisCounterStore(config.rateLimit.redisUrl, {
        prefix: config.rateLimit.redisPrefix,
        onError: (error) => log.warn({ err: error }, 'rate-limit store (Redis) error'),
      })
    : createMemoryCounterStore(() => clock.now().getTime());

  if (options.deliverWebhooks && config.webhooks.deliveryEnabled) {
    dispatcher.start();
    chatNotices.start();
  }
  if (options.pruneInBackground) retention.start();

  return {
    db,
    hub,
    /** How external ids are read and how many a customer may hold: the import applies them too. */
    identityRules,
    /** The unit of work every service writes through (tests use it to roll a change back). */
    uow,
    counters,
    lookupCache,
    clock,
    customers: createCustomersService({ db: db.kysely, uow, clock, suppressions }),
    identities: createIdentitiesService({
      db: db.kysely,
      uow,
      clock,
      cache: lookupCache,
      rules: identityRules,
      suppressions,
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
      rules: identityRules,
      throttle: createClaimThrottle(counters, {
        perIdentity: config.rateLimit.claimPerIdentity,
        perKey: config.rateLimit.claimPerKey,
        windowMs: config.rateLimit.windowMs,
      }),
    }),
    linkRequests: createLinkRequestsService({
      db: db.kysely,
      uow,
      clock,
      random,
      secret,
      ttlSeconds: config.linkRequests.ttlSeconds,
      maxPending: config.linkRequests.maxPending,
      rules: identityRules,
      suppressions,
      onDecided: () => chatNotices.wake(),
      throttle: createLinkThrottle(counters, {
        perSender: SELF_SERVICE_FAILURES,
        senderWindowMs: SELF_SERVICE_WINDOW_MS,
        perKey: config.rateLimit.claimPerKey,
        keyWindowMs: config.rateLimit.windowMs,
        // A chat's `/link` is limited per sender as a chat's `/claim` is.
        perAsker: config.rateLimit.claimPerIdentity,
        askerWindowMs: config.rateLimit.windowMs,
      }),
    }),
    merges: createMergesService({
      db: db.kysely,
      uow,
      clock,
      maxIdentitiesPerCustomer: config.maxIdentitiesPerCustomer,
      suppressions,
    }),
    /** Values of erased people kept from coming back (keyed hashes). */
    suppressions,
    /** An erased person, and an access request's answer. */
    erasure: createEraseService({
      db: db.kysely,
      uow,
      clock,
      suppressions,
      afterErase: db.truncateWal
        ? async () => {
            if (!(await db.truncateWal?.()))
              log.warn({}, 'after an erasure, the WAL could not be truncated yet: readers kept it busy');
          }
        : undefined,
    }),
    personExport: createPersonExportService({ db: db.kysely, clock }),
    /** Background deletion of what is past its retention (AUDIT_RETENTION_DAYS, …). */
    retention,
    platformKeys: createPlatformKeysService({ uow, clock }),
    apiKeys,
    audit: createAuditService({ db: db.kysely }),
    /** Transactions run again after losing a race (a deadlock, another process's lock), for /metrics. */
    transactionRetries,
    /** Following other replicas' changes (PostgreSQL servers only): for /readyz and /metrics. */
    changeListener: listener && {
      status: () => listener.status(),
      notices: changeNotices,
    },
    /** Chat updates already handled (webhook redeliveries and replays). */
    chatUpdates: createReplayGuard({
      db: db.kysely,
      clock,
      onBackgroundError: (error) => log.warn({ err: error }, 'could not forget expired chat updates'),
    }),
    webhooks: createWebhooksService({
      db: db.kysely,
      uow,
      clock,
      random,
      allowPrivateUrls: config.webhooks.allowPrivateUrls,
      resolve: resolveHost,
      wake: () => dispatcher.wake(),
    }),
    dispatcher,
    /** Sends the chat notices of link request decisions. */
    chatNotices,
    /** Throws 503 when the database does not answer. */
    async ping() {
      await mapDbError(() => sql`select 1`.execute(db.kysely));
    },
    async close() {
      await retention.stop();
      await dispatcher.stop();
      await chatNotices.stop();
      await listener?.close();
      await counters.close();
      await db.destroy();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
