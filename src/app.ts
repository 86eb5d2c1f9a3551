import { createServer } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyLoggerOptions, type FastifyServerOptions, LogController } from 'fastify';
import type { Config } from './config.js';
import { createValidatorCompiler } from './features/validation/ajv.js';
import { JSON_MAX_DEPTH, nestedDeeperThan, tooDeepMessage } from './features/validation/json-limits.js';
import { errorHandler } from './http/error-handler.js';
import { createFastPath, type FastPath, parseQuerystring } from './http/fast-path.js';
import authPlugin from './http/plugins/auth.js';
import dashboardPlugin from './http/plugins/dashboard.js';
import docsPlugin from './http/plugins/docs.js';
import lingeringClosePlugin from './http/plugins/lingering-close.js';
import metricsPlugin from './http/plugins/metrics.js';
import rateLimitPlugin from './http/plugins/rate-limit.js';
import requestLogPlugin from './http/plugins/request-log.js';
import routeConfigPlugin from './http/plugins/route-config.js';
import securityHeadersPlugin, { clientErrorHandler, frameworkErrors } from './http/plugins/security-headers.js';
import servicesPlugin from './http/plugins/services.js';
import { requestIdOf } from './http/request-id.js';
import apiKeyRoutes from './http/routes/api-keys/index.js';
import auditRoutes from './http/routes/audit/index.js';
import channelRoutes from './http/routes/channels/index.js';
import customerRoutes from './http/routes/customers/index.js';
import healthRoutes from './http/routes/health/index.js';
import identityRoutes from './http/routes/identities/index.js';
import linkRequestRoutes from './http/routes/link-requests/index.js';
import mergeRoutes from './http/routes/merges/index.js';
import privacyRoutes from './http/routes/privacy/index.js';
import serviceInfoRoutes from './http/routes/service-info/index.js';
import webhookRoutes from './http/routes/webhooks/index.js';
import { ConflictBody, ErrorBody, GoneBody, ValidationErrorBody } from './http/schemas/common.js';
import { jsonErrorOffset } from './http/validation/json-offset.js';
import { FieldError } from './internal/errors.js';
import { createErrorSerializer, secretValuesOf } from './internal/log-redaction.js';
import { createServices, type ServiceOptions, type Services } from './services.js';

export interface BuildOptions extends Omit<ServiceOptions, 'logger'> {
  /** Services made by the caller (tests share one database between apps); otherwise made here and closed with the app. */
  services?: Services;
  logger?: FastifyServerOptions['logger'];
}

/** Paths whose values must never reach a log line. */
export const REDACTED = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'headers["x-api-key"]',
  'key',
  'code',
  'body.key',
  'body.code',
];

/**
 * The app's logger settings: `options` (a test's stream or level) over the configured level, and
 * whatever they say, keys redacted by path and every logged error through the one serializer that
 * takes the configured secrets, secret-shaped strings and a person's values out of it.
 */
export function loggerOptions(config: Config, options: BuildOptions['logger']): FastifyServerOptions['logger'] {
  if (options === false) return false;
  const given = typeof options === 'object' && options !== null ? (options as FastifyLoggerOptions) : {};
  return {
    level: config.logLevel,
    redact: { paths: REDACTED, censor: '[redacted]' },
    ...given,
    serializers: { ...given.serializers, err: createErrorSerializer(secretValuesOf(config)) },
  } as FastifyServerOptions['logger'];
}

/** Builds the whole application; never listens, so tests can inject requests. */
export async function buildApp(config: Config, options: BuildOptions = {}) {
  // Set once every plugin is registered (below); until then, and with HTTP_FAST_PATH=false,
  // every request goes to Fastify.
  let fastPath: FastPath | undefined;
  const app = Fastify({
    logger: loggerOptions(config, options.logger),
    // One line per request comes from the request-log plugin instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    genReqId: requestIdOf,
    requestIdHeader: false,
    routerOptions: { querystringParser: parseQuerystring },
    // Node's server as Fastify makes it, with the fast path in front (Fastify's documented
    // serverFactory; injected requests, as in most tests, never reach it).
    serverFactory: (handler, serverOptions) => {
      const server = createServer((req, res) => {
        let answered = false;
        try {
          answered = fastPath?.answer(req, res, handler) ?? false;
        } catch (error) {
          // A fault of the fast path must not take the process down: Fastify answers, unless
          // the answer had begun.
          app.log.error({ err: error }, 'the fast path failed');
          answered = res.headersSent;
        }
        if (!answered) handler(req, res);
      });
      // Fastify's own settings for its server (its defaults: we set none of them).
      const ms = (name: string, fallback: number) => {
        const value = (serverOptions as Record<string, unknown>)[name];
        return typeof value === 'number' ? value : fallback;
      };
      server.keepAliveTimeout = ms('keepAliveTimeout', 72_000);
      server.requestTimeout = ms('requestTimeout', 0);
      server.setTimeout(ms('connectionTimeout', 0));
      return server;
    },
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const services =
    options.services ??
    (await createServices(config, {
      ...options,
      logger: app.log,
      listenForChanges: options.listenForChanges ?? true,
      deliverWebhooks: options.deliverWebhooks ?? true,
      pruneInBackground: options.pruneInBackground ?? true,
    }));

  const compileValidator = createValidatorCompiler();
  app.setValidatorCompiler(compileValidator);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));

  // FastAPI reads any body as JSON and reports where it broke; so do we.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    const body = text as string;
    if (body.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return done(new FieldError(['body', jsonErrorOffset(body)], 'JSON decode error', 'json_invalid'), undefined);
    }
    // Refused here, before validation, the error's path and its serialization walk it.
    if (nestedDeeperThan(value, JSON_MAX_DEPTH)) {
      return done(new FieldError(['body'], `Value error, ${tooDeepMessage(JSON_MAX_DEPTH)}`), undefined);
    }
    done(null, value);
  });

  app.addSchema(ErrorBody);
  app.addSchema(ConflictBody);
  app.addSchema(GoneBody);
  app.addSchema(ValidationErrorBody);

  await app.register(servicesPlugin, { services, owned: options.services === undefined });
  await app.register(routeConfigPlugin);
  await app.register(requestLogPlugin, { slowMs: config.slowRequestMs });
  await app.register(metricsPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(lingeringClosePlugin);
  await app.register(rateLimitPlugin, { limits: config.rateLimit });
  await app.register(authPlugin);
  await app.register(docsPlugin);
  await app.register(dashboardPlugin);
  await app.register(healthRoutes);
  await app.register(
    async (v1) => {
      await v1.register(customerRoutes);
      await v1.register(identityRoutes);
      await v1.register(mergeRoutes);
      await v1.register(linkRequestRoutes);
      await v1.register(apiKeyRoutes);
      await v1.register(auditRoutes);
      await v1.register(webhookRoutes);
      await v1.register(privacyRoutes);
      await v1.register(serviceInfoRoutes, { config });
      await v1.register(channelRoutes, { prefix: '/channels', config });
    },
    { prefix: '/v1' },
  );
  if (config.fastPath) {
    fastPath = createFastPath(app, {
      compileValidator,
      slowMs: config.slowRequestMs,
      lookupRateLimited: config.rateLimit.lookupPerKey > 0,
    });
    app.decorate('fastPath', fastPath);
  }
  return app;
}
