import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { databaseFaults } from '../../db/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's own Prometheus registry (tests build many apps in one process). */
    metrics: Registry;
    /** What counts an answered request (method, route template, status) in http_requests_total and http_request_duration_seconds. */
    requestObserver: (method: string, route: string, status: number) => (seconds: number) => void;
  }
}

/**
 * `GET /metrics` in Prometheus' text format, without an API key: scrapers rarely send one, and
 * it tells counts only (no ids, no keys, routes by template). Keep it off the public internet at
 * the proxy if that matters to you.
 */
async function metricsPlugin(app: FastifyInstance) {
  const registry = new Registry();
  app.decorate('metrics', registry);
  collectDefaultMetrics({ register: registry });
  const services = app.services;

  const labelNames = ['method', 'route', 'status'] as const;
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template and status',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // The count of requests is the histogram's own, copied at scrape time: one prom-client call
  // per request instead of two.
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template and status',
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { metricName, labels, value } of (await durations.get()).values) {
        if (metricName === 'http_request_duration_seconds_count') this.inc(labels, value);
      }
    },
  });
  // One label-bound child per (method, route, status), found by one string: prom-client would
  // otherwise build and check a labels object on every observation.
  const bound = new Map<string, (seconds: number) => void>();
  const observerFor = (method: string, route: string, status: number) => {
    const key = `${method} ${status} ${route}`;
    let observe = bound.get(key);
    if (!observe) {
      observe = durations.labels({ method, route, status }).observe;
      bound.set(key, observe);
    }
    return observe;
  };
  // Requests answered before Fastify (fast-path.ts) are counted here too.
  app.decorate('requestObserver', observerFor);
  app.addHook('onResponse', (request, reply, done) => {
    // The template, never the path itself: ids and phone numbers would explode the label set.
    observerFor(request.method, request.routeConfig.url ?? 'unmatched', reply.statusCode)(reply.elapsedTime / 1000);
    done();
  });

  // Counters kept by the services themselves, copied at scrape time.
  new Counter({
    name: 'lookup_cache_requests_total',
    help: 'Reverse-lookup cache hits and misses since start',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, services.lookupCache.hits);
      this.inc({ result: 'miss' }, services.lookupCache.misses);
    },
  });
  new Gauge({
    name: 'lookup_cache_entries',
    help: 'Entries in the reverse-lookup cache',
    registers: [registry],
    collect() {
      this.set(services.lookupCache.size);
    },
  });
  new Counter({
    name: 'claim_redemptions_total',
    help: 'Claim redemptions by outcome: succeeded, failed, voided (the failure that used up a code), rate_limited',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(services.claims.outcomes)) this.inc({ outcome }, count);
    },
  });
  new Counter({
    name: 'chat_updates_redelivered_total',
    help: 'Chat updates (Telegram updates, WhatsApp messages, Slack commands) delivered again after being handled, and ignored',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, count] of Object.entries(services.chatUpdates.redelivered)) this.inc({ channel }, count);
    },
  });
  new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts made by this process, by outcome: delivered (2xx), retrying (failed, another attempt scheduled), failed (given up)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(services.dispatcher.outcomes)) this.inc({ outcome }, count);
    },
  });
  new Counter({
    name: 'chat_notices_total',
    help: 'Chat notices (a link request decision told on the chat it came from) attempted by this process, by channel and outcome: sent, retrying (failed, another attempt scheduled), failed (given up)',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, counts] of Object.entries(services.chatNotices.outcomes)) {
        for (const [outcome, count] of Object.entries(counts)) this.inc({ channel, outcome }, count);
      }
    },
  });
  new Counter({
    name: 'retention_pruned_rows_total',
    help: 'Rows deleted by this process because they were past their retention, by kind: audit_events, webhook_events, webhook_deliveries, webhook_attempts, link_requests',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, count] of Object.entries(services.retention.pruned)) this.inc({ kind }, count);
    },
  });
  new Counter({
    name: 'retention_batches_total',
    help: 'Delete statements (batches of at most RETENTION_BATCH_SIZE rows) run by this process to prune old rows',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(services.retention.counts.batches);
    },
  });
  // Depth and age are the database's (every replica reports the same), read once per scrape.
  let outbox: Promise<{ depth: number; oldest: string | null }> | undefined;
  const readOutbox = () => {
    outbox ??= services.webhooks.stats().finally(() => {
      outbox = undefined;
    });
    return outbox;
  };
  new Gauge({
    name: 'webhook_outbox_depth',
    help: 'Webhook deliveries waiting to be sent or retried',
    registers: [registry],
    async collect() {
      this.set((await readOutbox()).depth);
    },
  });
  new Gauge({
    name: 'webhook_outbox_oldest_age_seconds',
    help: 'Age of the oldest event with a delivery still waiting (0 when none waits)',
    registers: [registry],
    async collect() {
      const { oldest } = await readOutbox();
      this.set(oldest ? Math.max(0, (services.clock.now().getTime() - Date.parse(oldest)) / 1000) : 0);
    },
  });
  const pool = services.db.pool;
  if (pool) {
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool connections: total, idle, and requests waiting for one',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        // After the scrape's own outbox query, which would otherwise show up as waiting for a connection.
        await readOutbox().catch(() => undefined);
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }
  const lookupPool = services.db.lookupPool;
  if (lookupPool) {
    new Gauge({
      name: 'db_lookup_pool_connections',
      help: "PostgreSQL connections of the lookups' own pool (DB_LOOKUP_TIMEOUT_MS): total, idle, and lookups waiting for one",
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, lookupPool.totalCount);
        this.set({ state: 'idle' }, lookupPool.idleCount);
        this.set({ state: 'waiting' }, lookupPool.waitingCount);
      },
    });
  }

  new Counter({
    name: 'db_transaction_retries_total',
    help: 'Transactions that lost a race (deadlock, serialization failure, a lock held by another process): retried, and gave_up (answered 503)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [result, count] of Object.entries(services.transactionRetries)) this.inc({ result }, count);
    },
  });
  new Counter({
    name: 'db_timeouts_total',
    help: 'Statements PostgreSQL gave up on at their bound (DB_*_TIMEOUT_MS), answered 503: kind lock (waited for a lock held by another session) or statement (ran too long)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ kind: 'lock' }, databaseFaults.lock_timeout);
      this.inc({ kind: 'statement' }, databaseFaults.statement_timeout);
    },
  });
  new Counter({
    name: 'db_disk_full_errors_total',
    help: "Writes refused because the database's disk is full (SQLITE_FULL, PostgreSQL 53100), answered 503",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(databaseFaults.disk_full);
    },
  });
  const listener = services.changeListener;
  if (listener) {
    new Counter({
      name: 'change_notifications_total',
      help: "Other replicas' change notifications: applied, own (this process's, ignored), dropped (not our shape)",
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [result, count] of Object.entries(listener.notices)) this.inc({ result }, count);
      },
    });
    new Gauge({
      name: 'change_listener_connected',
      help: 'Whether the LISTEN connection that follows other replicas is up (1) or being replaced (0)',
      registers: [registry],
      collect() {
        this.set(listener.status().connected ? 1 : 0);
      },
    });
    new Counter({
      name: 'change_listener_losses_total',
      help: 'Times the LISTEN connection was lost or found dead (each drops the caches)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(listener.status().losses);
      },
    });
    new Counter({
      name: 'change_listener_round_trips_total',
      help: 'Self-NOTIFY round trips of the LISTEN connection, by result (ok, failed)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        const { ok, failed } = listener.status().roundTrips;
        this.inc({ result: 'ok' }, ok);
        this.inc({ result: 'failed' }, failed);
      },
    });
    new Gauge({
      name: 'change_listener_round_trip_seconds',
      help: 'Time the last successful self-NOTIFY round trip took',
      registers: [registry],
      collect() {
        const seconds = listener.status().lastRoundTripSeconds;
        if (seconds !== undefined) this.set(seconds);
      },
    });
  }

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['services', 'route-config'] });
