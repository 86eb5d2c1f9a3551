#!/usr/bin/env node
// The command line runs the compiled code; `npm run build` (or `npm start`) produces it.
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  process.stderr.write('identity-service: not built yet; run `npm run build` (or `npm start`) first.\n');
  process.exitCode = 1;
}
