import { createRequire } from 'node:module';

/**
 * The service's version, read once from package.json (one place to change it): shown by
 * /v1/service-info, the OpenAPI document and `identity-service --version`. The path holds from
 * src/ (tsx, tests) and from dist/ (the build), both two levels below the package.
 */
export const SERVICE_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version;
