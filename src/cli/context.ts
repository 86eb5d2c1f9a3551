import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';

/** Console output belongs to the command line only; the services report through this logger. */
export const cliLogger = {
  warn: (object: object, message: string) => process.stderr.write(`warning: ${message} ${JSON.stringify(object)}\n`),
  error: (object: object, message: string) => process.stderr.write(`error: ${message} ${JSON.stringify(object)}\n`),
};

/** Opens the database named by DATABASE_URL (migrating it), runs a command, and closes it. */
export async function withServices<T>(work: (services: Services) => Promise<T>): Promise<T> {
  const services = await createServices(loadConfig(), { logger: cliLogger, listenForChanges: false });
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}
