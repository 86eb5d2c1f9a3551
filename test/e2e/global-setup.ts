import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds the dashboard before any browser test, every time: esbuild takes well under a second,
 * and a dist/dashboard left from older sources would test the wrong app.
 */
export default function setup() {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build-dashboard.mjs'], { cwd: root, stdio: 'inherit' });
}
