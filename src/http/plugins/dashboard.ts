import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Paths whose answers are data rather than pages: the API, health, metrics, the OpenAPI document. */
const DATA_PATHS = ['/v1', '/openapi.json', '/healthz', '/readyz', '/metrics'];

/** Paths that belong to the API and its tools: the dashboard never answers for them. */
export const RESERVED_PATHS = [...DATA_PATHS, '/docs'];

/** Whether a path is one of `prefixes` or below one; the prefixes with their slash built once. */
function under(prefixes: readonly string[]): (path: string) => boolean {
  const below = prefixes.map((prefix) => `${prefix}/`);
  return (path) => prefixes.includes(path) || below.some((prefix) => path.startsWith(prefix));
}

/** `dist/dashboard` at the package root, from both `src/http/plugins` (tsx, tests) and `dist/http/plugins`. */
export const DEFAULT_DASHBOARD_ROOT = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

export interface DashboardOptions {
  /** The built dashboard (index.html, app.js, app.css); tests point it elsewhere. */
  root?: string;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Dashboard not built</title></head>
<body>
<h1>The dashboard has not been built</h1>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds first), then reload this page.</p>
<p>The API is served under <a href="/docs">/docs</a> meanwhile.</p>
</body>
</html>
`;

export const isReserved = under(RESERVED_PATHS);

const isDataPath = under(DATA_PATHS);

/** Whether a request's URL (query string and all) asks for data; everything else is a page. */
export function isApiPath(url: string): boolean {
  const end = url.indexOf('?');
  return isDataPath(end < 0 ? url : url.slice(0, end));
}

/** `/customers/abc` is a page of the app; `/favicon.ico` or `/app.js.map` is a missing file. */
function looksLikeFile(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last.includes('.');
}

/**
 * The operator's dashboard at `/`: the built files, and index.html for any other GET path that
 * is neither the API's nor a file, so that `/customers/<id>` can be reloaded and bookmarked
 * (the app routes with the History API). Without a build, a page that says how to make one.
 */
async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions) {
  const root = options.root ?? DEFAULT_DASHBOARD_ROOT;
  const built = existsSync(`${root.replace(/\/$/, '')}/index.html`);

  // Encapsulated, so that reply.sendFile does not clash with the docs' own static files.
  await app.register(async (scope) => {
    if (built) {
      // wildcard: false lists the few built files once, leaving `/*` to the fallback below.
      await scope.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: ['index.html'] });
    }

    const fallback = async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?', 1)[0] ?? '/';
      if (isReserved(path) || looksLikeFile(path)) return reply.callNotFound();
      if (!built) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    };
    scope.get('/*', { schema: { hide: true } }, fallback);
    if (!built) scope.get('/', { schema: { hide: true } }, fallback);
  });
}

export default fp(dashboardPlugin, { name: 'dashboard' });
