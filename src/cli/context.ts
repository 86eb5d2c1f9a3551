import { type Config, loadConfig } from '../config.js';
import { createErrorSerializer, secretValuesOf } from '../internal/log-redaction.js';
import { createServices, type ServiceLogger, type Services } from '../services.js';

/**
 * Console output belongs to the command line only; the services report through this logger. Its
 * errors go through the server's serializer, so that a secret or a person's value in an error
 * reaches the terminal no more than the server's log.
 */
export function createCliLogger(secrets: readonly string[]): ServiceLogger {
  const serializeError = createErrorSerializer(secrets);
  const line = (object: object) =>
    JSON.stringify('err' in object ? { ...object, err: serializeError((object as { err: unknown }).err) } : object);
  return {
    warn: (object, message) => process.stderr.write(`warning: ${message} ${line(object)}\n`),
    error: (object, message) => process.stderr.write(`error: ${message} ${line(object)}\n`),
  };
}

/** The command line's logger with no configured secrets (only secret-shaped strings are censored). */
export const cliLogger = createCliLogger([]);

/** Opens the database named by DATABASE_URL (migrating it), runs a command, and closes it. */
export async function withServices<T>(
  work: (services: Services) => Promise<T>,
  config: Config = loadConfig(),
): Promise<T> {
  const services = await createServices(config, {
    logger: createCliLogger(secretValuesOf(config)),
    listenForChanges: false,
  });
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}
