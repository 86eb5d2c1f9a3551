import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

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
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  /**
   * Requests that take at least this long are logged at info whatever they were; successful fast
   * reads (lookups, health checks) are logged only at LOG_LEVEL=debug. 0 logs every request.
   */
  LOG_SLOW_REQUEST_MS: Type.Number({ minimum: 0, default: 250 }),
  /** Public origin used in links the service prints (docs, README); optional. */
  PUBLIC_URL: Type.Optional(Type.String()),

  TELEGRAM_BOT_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  TELEGRAM_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  TELEGRAM_BOT_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  TELEGRAM_API_BASE: Type.String({ default: 'https://api.telegram.org' }),
  SLACK_SIGNING_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_VERIFY_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_APP_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_ACCESS_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_API_BASE: Type.String({ default: 'https://graph.facebook.com/v21.0' }),

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
   * peer), `true` (any proxy), a hop count, or a comma-separated list of proxy addresses/CIDRs.
   * Failed-authentication limits count per client address, so set it behind a proxy.
   */
  TRUST_PROXY: Type.String({ default: 'false' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 65_536 }),
  SHUTDOWN_GRACE_SECONDS: Type.Number({ minimum: 0, default: 10 }),
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
  logLevel: string;
  /** LOG_SLOW_REQUEST_MS: see the request-log plugin. */
  slowRequestMs: number;
  publicUrl: string | undefined;
  telegram: {
    botToken: string | undefined;
    webhookSecret: string | undefined;
    botUsername: string | undefined;
    apiBase: string;
  };
  slack: { signingSecret: string | undefined };
  whatsapp: {
    verifyToken: string | undefined;
    appSecret: string | undefined;
    accessToken: string | undefined;
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
  trustProxy: boolean | string[] | ((address: string, hop: number) => boolean);
  bodyLimitBytes: number;
  shutdownGraceMs: number;
}

/** TRUST_PROXY as Fastify's `trustProxy` option. */
export function parseTrustProxy(value: string): Config['trustProxy'] {
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false' || text === '') return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return (_address, hop) => hop < hops;
  }
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
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
    logLevel: env.LOG_LEVEL,
    slowRequestMs: env.LOG_SLOW_REQUEST_MS,
    publicUrl: env.PUBLIC_URL,
    telegram: {
      botToken: env.TELEGRAM_BOT_TOKEN,
      webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
      botUsername: env.TELEGRAM_BOT_USERNAME?.replace(/^@/, ''),
      apiBase: env.TELEGRAM_API_BASE.replace(/\/+$/, ''),
    },
    slack: { signingSecret: env.SLACK_SIGNING_SECRET },
    whatsapp: {
      verifyToken: env.WHATSAPP_VERIFY_TOKEN,
      appSecret: env.WHATSAPP_APP_SECRET,
      accessToken: env.WHATSAPP_ACCESS_TOKEN,
      apiBase: env.WHATSAPP_API_BASE.replace(/\/+$/, ''),
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
    shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
  });
}
