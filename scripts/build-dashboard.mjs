// Builds the operator's dashboard (dashboard/) into dist/dashboard: index.html, app.js, app.css.
// No inline script or style anywhere, because the server's Content-Security-Policy forbids them.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'dashboard');
const outdir = join(root, 'dist', 'dashboard');

const started = Date.now();
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: join(source, 'src', 'main.tsx') },
  outdir,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  tsconfig: join(source, 'tsconfig.json'),
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
await copyFile(join(source, 'index.html'), join(outdir, 'index.html'));

const sizes = Object.entries(result.metafile.outputs)
  .map(([file, { bytes }]) => `${file.replace(/^.*dist\//, 'dist/')} ${(bytes / 1024).toFixed(1)} KiB`)
  .join(', ');
process.stdout.write(`dashboard: built in ${Date.now() - started} ms: ${sizes}\n`);
