import { isIP } from 'node:net';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type CountryCode, isSupportedCountry } from 'libphonenumber-js/max';

/**
 * Every setting the service reads, with its default. The environment is parsed once, at start,
 * into a frozen Config that is passed down; no module reads `process.env` on its own.
 */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATABASE_URL: Type.String({ default: 'sqlite:./data/identity.db' }),
  BOOTSTRAP_API_KEY: Type.Optional(Type.String({ minLength: 16 })),
  CLAIM_CODE_TTL_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  CLAIM_CODE_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  /** How long a link request (and its code) lives. */
  LINK_REQUEST_TTL_SECONDS: Type.Integer({ minimum: 1, default: 3600 }),
  /** Pending link requests at most, across all accounts; beyond it, a new request is a 429. */
  LINK_REQUESTS_MAX_PENDING: Type.Integer({ minimum: 1, default: 1000 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  /**
   * Region (ISO 3166 two-letter code, e.g. US) in which a phone number written without `+` and
   * without a country code is read; unset, such a number must be a complete international one.
   */
  DEFAULT_PHONE_REGION: Type.Optional(Type.String()),
  /**
   * Comma-separated regular expressions: an external id (normalized) that one matches whole,
   * ignoring case, is refused like a placeholder (`null`, `undefined`, …) on every link and lookup.
   */
  BLOCKED_EXTERNAL_IDS: Type.Optional(Type.String()),
  /**
   * Requests that take at least this long are logged at info whatever they were; successful fast
   * reads (lookups, health checks) are logged only at LOG_LEVEL=debug. 0 logs every request.
   */
  LOG_SLOW_REQUEST_MS: Type.Number({ minimum: 0, default: 250 }),
  /**
   * Cached lookups and /healthz answered before the web framework (src/http/fast-path.ts), with
   * the same bytes; false sends every request through Fastify's routing and hooks.
   */
  HTTP_FAST_PATH: Type.Boolean({ default: true }),
  /** Public origin used in links the service prints (docs, README); optional. */
  PUBLIC_URL: Type.Optional(Type.String()),

  TELEGRAM_BOT_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  /** Telegram's `secret_token`: 1–256 of A-Z a-z 0-9 _ - (Telegram's rule); we require at least 32. */
  TELEGRAM_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  TELEGRAM_BOT_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  TELEGRAM_API_BASE: Type.String({ default: 'https://api.telegram.org' }),
  SLACK_SIGNING_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  /** For messages of our own (a link request's decision): chat.postMessage, scope chat:write. */
  SLACK_BOT_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  SLACK_API_BASE: Type.String({ default: 'https://slack.com/api' }),
  WHATSAPP_VERIFY_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_APP_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_ACCESS_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_API_BASE: Type.String({ default: 'https://graph.facebook.com/v21.0' }),
  /** The application's public key (Developer Portal → General Information), 64 hex digits: turns the interactions endpoint on. */
  DISCORD_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  DISCORD_APPLICATION_ID: Type.Optional(Type.String({ minLength: 1 })),
  /** For `discord register-commands` and direct messages; the interactions endpoint needs none. */
  DISCORD_BOT_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  DISCORD_API_BASE: Type.String({ default: 'https://discord.com/api/v10' }),

  LOOKUP_CACHE_MAX: Type.Integer({ minimum: 0, default: 100_000 }),
  /**
   * Writes through the service invalidate at once (this process, other replicas by NOTIFY, the
   * command line by SQLite's data_version): the TTL only bounds how long a change made outside
   * the service (SQL by hand) can go unseen.
   */
  LOOKUP_CACHE_TTL_SECONDS: Type.Number({ minimum: 0, default: 300 }),
  LOOKUP_CACHE_MISS_TTL_SECONDS: Type.Number({ minimum: 0, default: 5 }),

  REDIS_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** Prefix of the throttling keys in Redis, so that deployments (or test runs) can share one Redis. */
  RATE_LIMIT_REDIS_PREFIX: Type.String({ default: 'identity-service:' }),
  /** Claim redemptions per (channel, external_id) per window. */
  RATE_LIMIT_CLAIM_PER_IDENTITY: Type.Integer({ minimum: 0, default: 10 }),
  /** Claim redemptions per API key per window. */
  RATE_LIMIT_CLAIM_PER_KEY: Type.Integer({ minimum: 0, default: 600 }),
  /** Failed authentications per client address per window. */
  RATE_LIMIT_AUTH_FAILURES_PER_IP: Type.Integer({ minimum: 0, default: 30 }),
  /** Lookups per API key per window; 0 means not throttled. */
  RATE_LIMIT_LOOKUP_PER_KEY: Type.Integer({ minimum: 0, default: 0 }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 900 }),

  /**
   * Whose address is the client's behind a reverse proxy (X-Forwarded-For): `false` (the socket's
   * peer) or a comma-separated list of the proxies' addresses/CIDRs. `true` and hop counts are
   * refused (see parseTrustProxy). Failed-authentication limits count per client address, so set
   * it behind a proxy.
   */
  TRUST_PROXY: Type.String({ default: 'false' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 65_536 }),
  /** Identities one customer may hold; a link, move, merge or import beyond it is refused. */
  MAX_IDENTITIES_PER_CUSTOMER: Type.Integer({ minimum: 1, default: 100 }),
  SHUTDOWN_GRACE_SECONDS: Type.Number({ minimum: 0, default: 10 }),

  // Replicas and locks (issue 18).
  /** PostgreSQL: how often the LISTEN connection sends itself a NOTIFY to prove it is alive. */
  LISTEN_PING_INTERVAL_SECONDS: Type.Number({ minimum: 0.05, default: 10 }),
  /** PostgreSQL: how long that NOTIFY may take to come back before the connection is replaced. */
  LISTEN_PING_TIMEOUT_SECONDS: Type.Number({ minimum: 0.05, default: 5 }),
  /** PostgreSQL: idle seconds before TCP keep-alive probes the LISTEN connection. */
  LISTEN_KEEPALIVE_SECONDS: Type.Number({ minimum: 1, default: 30 }),
  /**
   * SQLite: how long a write from the server waits for another process's write lock (the command
   * line's import) before it is answered 503 with Retry-After; lookups go on meanwhile.
   */
  SQLITE_WRITE_WAIT_MS: Type.Integer({ minimum: 0, default: 1000 }),
  /**
   * PostgreSQL: how long an uncached lookup's read may wait for a lock or run (lock_timeout and
   * statement_timeout of the lookups' connections) before it is answered 503 with Retry-After.
   * The lookup is in front of every conversation: it must not wait behind a migration. 0: no bound.
   */
  DB_LOOKUP_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 1000 }),
  /** PostgreSQL: the same bound for every other statement of the server (writes, lists, /readyz). */
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 5000 }),
  /** PostgreSQL: the same bound for the command line's statements (import, export, keys); migrations have none. */
  DB_IMPORT_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 60_000 }),
  /** Webhook URLs may point at loopback, private and link-local addresses (tests, a private network). */
  WEBHOOK_ALLOW_PRIVATE_URLS: Type.Boolean({ default: false }),
  /** Whether this process runs the delivery loop (the server; several replicas may). */
  WEBHOOK_DELIVERY_ENABLED: Type.Boolean({ default: true }),
  /** Each attempt is cut off after this long. */
  WEBHOOK_TIMEOUT_SECONDS: Type.Number({ minimum: 1, maximum: 60, default: 10 }),
  /** Attempts in flight at once per process, each to a different subscription. */
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 16 }),
  /** How often the outbox is read for retries and other replicas' events. */
  WEBHOOK_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1_000 }),
  /**
   * The former name of WEBHOOK_EVENT_RETENTION_DAYS, in hours; when set, it wins (a deployment
   * that chose it keeps its choice).
   */
  WEBHOOK_RETENTION_HOURS: Type.Optional(Type.Number({ minimum: 1 })),

  // Forgetting (issue 32).
  /** Audit entries older than this many days are deleted; 0 keeps them for ever. */
  AUDIT_RETENTION_DAYS: Type.Number({ minimum: 0, default: 0 }),
  /** Webhook events, their finished deliveries and attempts are deleted after this many days. */
  WEBHOOK_EVENT_RETENTION_DAYS: Type.Number({ minimum: 1, default: 30 }),
  /** Rows deleted per statement by the background pruning. */
  RETENTION_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
});

type Env = Static<typeof EnvSchema>;

export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Config {
  port: number;
  host: string;
  database: DatabaseTarget;
  bootstrapApiKey: string | undefined;
  claimCodeTtlSeconds: number;
  claimCodeSecret: string | undefined;
  linkRequests: { ttlSeconds: number; maxPending: number };
  logLevel: string;
  /** LOG_SLOW_REQUEST_MS: see the request-log plugin. */
  slowRequestMs: number;
  /** HTTP_FAST_PATH: see src/http/fast-path.ts. */
  fastPath: boolean;
  publicUrl: string | undefined;
  defaultPhoneRegion: CountryCode | undefined;
  /** BLOCKED_EXTERNAL_IDS, each anchored at both ends and case-insensitive. */
  blockedExternalIds: readonly RegExp[];
  telegram: {
    botToken: string | undefined;
    webhookSecret: string | undefined;
    botUsername: string | undefined;
    apiBase: string;
  };
  slack: { signingSecret: string | undefined; botToken: string | undefined; apiBase: string };
  whatsapp: {
    verifyToken: string | undefined;
    appSecret: string | undefined;
    accessToken: string | undefined;
    apiBase: string;
  };
  discord: {
    /** Lowercase hex, checked at start. */
    publicKey: string | undefined;
    applicationId: string | undefined;
    botToken: string | undefined;
    apiBase: string;
  };
  lookupCache: { max: number; ttlMs: number; missTtlMs: number };
  rateLimit: {
    redisUrl: string | undefined;
    redisPrefix: string;
    claimPerIdentity: number;
    claimPerKey: number;
    authFailuresPerIp: number;
    lookupPerKey: number;
    windowMs: number;
  };
  /** `false`, or the proxies whose X-Forwarded-For is believed (Fastify's `trustProxy`). */
  trustProxy: false | string[];
  bodyLimitBytes: number;
  /** MAX_IDENTITIES_PER_CUSTOMER: see assertIdentityRoom. */
  maxIdentitiesPerCustomer: number;
  shutdownGraceMs: number;
  /** Replicas and locks (issue 18). */
  changeListener: { pingIntervalMs: number; pingTimeoutMs: number; keepAliveMs: number };
  sqliteWriteWaitMs: number;
  /** PostgreSQL's lock_timeout and statement_timeout (ms, 0 = none): the lookup's, the server's other statements', the command line's. */
  statementTimeouts: { lookupMs: number; serverMs: number; commandLineMs: number };
  webhooks: {
    allowPrivateUrls: boolean;
    deliveryEnabled: boolean;
    timeoutMs: number;
    concurrency: number;
    pollIntervalMs: number;
  };
  retention: {
    /** 0: for ever. */
    auditMs: number;
    webhookEventsMs: number;
    batchSize: number;
  };
}

/** Names proxy-addr (Fastify's trustProxy) knows for whole ranges. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, an address/prefix-length CIDR, or one of proxy-addr's range names. */
function isProxyAddress(text: string): boolean {
  if (PROXY_RANGE_NAMES.has(text)) return true;
  const [address = '', prefix, ...rest] = text.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY as Fastify's `trustProxy` option: `false`, or the list of proxies whose
 * X-Forwarded-For is believed. `true` or a hop count would believe whatever address any client
 * that reaches the port writes there (and so let it escape its limits, or lock another address
 * out): refused at start, with a message saying what to write instead.
 */
export function parseTrustProxy(value: string): Config['trustProxy'] {
  const text = value.trim().toLowerCase();
  if (text === 'false' || text === '') return false;
  if (text === 'true' || /^\d+$/.test(text)) {
    throw new ConfigError(
      `TRUST_PROXY=${value.trim()} is refused: it would let any client set its own address with X-Forwarded-For. ` +
        'Set TRUST_PROXY to the comma-separated addresses or CIDRs of your reverse proxies (e.g. 10.0.0.0/8,127.0.0.1), or false.',
    );
  }
  const entries = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const wrong = entries.filter((entry) => !isProxyAddress(entry));
  if (wrong.length > 0) {
    throw new ConfigError(
      `TRUST_PROXY: not an IP address or CIDR: ${wrong.join(', ')}. ` +
        'Write the comma-separated addresses or CIDRs of your reverse proxies (e.g. 10.0.0.0/8,::1), or false.',
    );
  }
  return entries;
}

/** Telegram's rule for a webhook's secret_token, with our minimum of 32 characters. */
const TELEGRAM_SECRET = /^[A-Za-z0-9_-]{32,256}$/;

function checkTelegramSecret(secret: string | undefined): string | undefined {
  if (secret !== undefined && !TELEGRAM_SECRET.test(secret)) {
    throw new ConfigError(
      `TELEGRAM_WEBHOOK_SECRET must be 32 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram accepts no others; we require at least 32), got ${secret.length} characters. ` +
        'Generate one with: openssl rand -hex 32',
    );
  }
  return secret;
}

/** An Ed25519 public key is 32 bytes; the Developer Portal shows it as 64 hex digits. */
function checkDiscordPublicKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const hex = key.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ConfigError(
      `DISCORD_PUBLIC_KEY must be the 64 hex digits of "Public Key" on the application's General Information page in Discord's Developer Portal (got ${hex.length} characters)`,
    );
  }
  return hex.toLowerCase();
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** DEFAULT_PHONE_REGION as a region libphonenumber knows, or a ConfigError that says what is expected. */
export function parsePhoneRegion(value: string | undefined): CountryCode | undefined {
  if (value === undefined) return undefined;
  const region = value.trim().toUpperCase();
  if (!isSupportedCountry(region)) {
    throw new ConfigError(
      `DEFAULT_PHONE_REGION must be a two-letter region code with phone numbering, e.g. US, GB or DE (got ${JSON.stringify(value)})`,
    );
  }
  return region;
}

/**
 * BLOCKED_EXTERNAL_IDS as regular expressions that must match a whole id, ignoring case; a bad
 * one is a ConfigError naming it, so that the service does not start with a rule it cannot apply.
 */
export function parseBlockedExternalIds(value: string | undefined): readonly RegExp[] {
  const patterns = (value ?? '')
    .split(',')
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
  return Object.freeze(
    patterns.map((pattern) => {
      try {
        return new RegExp(`^(?:${pattern})$`, 'i');
      } catch (error) {
        throw new ConfigError(
          `BLOCKED_EXTERNAL_IDS: ${JSON.stringify(pattern)} is not a valid regular expression (${(error as Error).message}). ` +
            'Write comma-separated JavaScript regular expressions, each matched against the whole normalized id, ignoring case, e.g. test-.*,0+',
        );
      }
    }),
  );
}

export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { kind: 'postgres', url };
  }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigError('DATABASE_URL sqlite: needs a path or :memory:');
    return { kind: 'sqlite', path };
  }
  throw new ConfigError(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.split(':')[0]}:…)`);
}

/** Parses the environment (or any record of strings) into a frozen Config. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw)) as Env;
  const errors = [...Value.Errors(EnvSchema, env)];
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.path.slice(1)}: ${e.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze({
    port: env.PORT,
    host: env.HOST,
    database: parseDatabaseUrl(env.DATABASE_URL),
    bootstrapApiKey: env.BOOTSTRAP_API_KEY,
    claimCodeTtlSeconds: env.CLAIM_CODE_TTL_SECONDS,
    claimCodeSecret: env.CLAIM_CODE_SECRET,
    linkRequests: { ttlSeconds: env.LINK_REQUEST_TTL_SECONDS, maxPending: env.LINK_REQUESTS_MAX_PENDING },
    logLevel: env.LOG_LEVEL,
    slowRequestMs: env.LOG_SLOW_REQUEST_MS,
    fastPath: env.HTTP_FAST_PATH,
    publicUrl: env.PUBLIC_URL,
    defaultPhoneRegion: parsePhoneRegion(env.DEFAULT_PHONE_REGION),
    blockedExternalIds: parseBlockedExternalIds(env.BLOCKED_EXTERNAL_IDS),
    telegram: {
      botToken: env.TELEGRAM_BOT_TOKEN,
      webhookSecret: checkTelegramSecret(env.TELEGRAM_WEBHOOK_SECRET),
      botUsername: env.TELEGRAM_BOT_USERNAME?.replace(/^@/, ''),
      apiBase: env.TELEGRAM_API_BASE.replace(/\/+$/, ''),
    },
    slack: {
      signingSecret: env.SLACK_SIGNING_SECRET,
      botToken: env.SLACK_BOT_TOKEN?.trim(),
      apiBase: env.SLACK_API_BASE.replace(/\/+$/, ''),
    },
    whatsapp: {
      verifyToken: env.WHATSAPP_VERIFY_TOKEN,
      appSecret: env.WHATSAPP_APP_SECRET,
      accessToken: env.WHATSAPP_ACCESS_TOKEN,
      apiBase: env.WHATSAPP_API_BASE.replace(/\/+$/, ''),
    },
    discord: {
      publicKey: checkDiscordPublicKey(env.DISCORD_PUBLIC_KEY),
      applicationId: env.DISCORD_APPLICATION_ID?.trim(),
      botToken: env.DISCORD_BOT_TOKEN?.trim(),
      apiBase: env.DISCORD_API_BASE.replace(/\/+$/, ''),
    },
    lookupCache: {
      max: env.LOOKUP_CACHE_MAX,
      ttlMs: env.LOOKUP_CACHE_TTL_SECONDS * 1000,
      missTtlMs: env.LOOKUP_CACHE_MISS_TTL_SECONDS * 1000,
    },
    rateLimit: {
      redisUrl: env.REDIS_URL,
      redisPrefix: env.RATE_LIMIT_REDIS_PREFIX,
      claimPerIdentity: env.RATE_LIMIT_CLAIM_PER_IDENTITY,
      claimPerKey: env.RATE_LIMIT_CLAIM_PER_KEY,
      authFailuresPerIp: env.RATE_LIMIT_AUTH_FAILURES_PER_IP,
      lookupPerKey: env.RATE_LIMIT_LOOKUP_PER_KEY,
      windowMs: env.RATE_LIMIT_WINDOW_SECONDS * 1000,
    },
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    maxIdentitiesPerCustomer: env.MAX_IDENTITIES_PER_CUSTOMER,
    shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
    changeListener: {
      pingIntervalMs: env.LISTEN_PING_INTERVAL_SECONDS * 1000,
      pingTimeoutMs: env.LISTEN_PING_TIMEOUT_SECONDS * 1000,
      keepAliveMs: env.LISTEN_KEEPALIVE_SECONDS * 1000,
    },
    sqliteWriteWaitMs: env.SQLITE_WRITE_WAIT_MS,
    statementTimeouts: {
      lookupMs: env.DB_LOOKUP_TIMEOUT_MS,
      serverMs: env.DB_STATEMENT_TIMEOUT_MS,
      commandLineMs: env.DB_IMPORT_TIMEOUT_MS,
    },
    webhooks: {
      allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS,
      deliveryEnabled: env.WEBHOOK_DELIVERY_ENABLED,
      timeoutMs: env.WEBHOOK_TIMEOUT_SECONDS * 1000,
      concurrency: env.WEBHOOK_CONCURRENCY,
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
    },
    retention: {
      auditMs: env.AUDIT_RETENTION_DAYS * 86_400_000,
      webhookEventsMs:
        env.WEBHOOK_RETENTION_HOURS !== undefined
          ? env.WEBHOOK_RETENTION_HOURS * 3_600_000
          : env.WEBHOOK_EVENT_RETENTION_DAYS * 86_400_000,
      batchSize: env.RETENTION_BATCH_SIZE,
    },
  });
}
