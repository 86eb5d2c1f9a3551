import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

// A SQLite service never needs node-postgres; loading it at start cost some 3 MB of heap, which
// counts against the memory target. In a process of its own: other tests here load it.
it('a service on SQLite does not load node-postgres; one on PostgreSQL does, when it opens the database', {
  timeout: 60_000,
}, async () => {
  const script = `
    import { createRequire } from 'node:module';
    const { buildApp } = await import('./src/app.ts');
    const { loadConfig } = await import('./src/config.ts');
    const pgLoaded = () =>
      Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/pg/'));
    const app = await buildApp(loadConfig({ DATABASE_URL: 'sqlite::memory:' }), { logger: false });
    await app.ready();
    const onSqlite = pgLoaded();
    await app.close();
    const { createDb } = await import('./src/db/create-db.ts');
    const db = createDb({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none' });
    const onPostgres = pgLoaded();
    await db.destroy();
    process.stdout.write(JSON.stringify({ onSqlite, onPostgres }));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: process.cwd(),
  });
  expect(JSON.parse(stdout)).toEqual({ onSqlite: false, onPostgres: true });
});
