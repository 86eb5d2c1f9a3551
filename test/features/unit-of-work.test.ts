import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/create-db.js';
import { databaseBusy } from '../../src/db/errors.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { ChangeHub, type ChangeSet, cliActor } from '../../src/features/changes/changes.js';
import { createUnitOfWork } from '../../src/features/changes/unit-of-work.js';
import { errorHandler } from '../../src/http/error-handler.js';
import { systemClock } from '../../src/internal/clock.js';
import { conflict, RetryLaterError } from '../../src/internal/errors.js';
import { DIALECTS } from '../helpers/dialects.js';

// Issue 18, items 13 and 15: a transaction that lost a race is run again, as a whole, and what
// still fails is a 503 with Retry-After.

/** The error each database raises when a transaction loses a race. */
const lostRace = (dialect: string) =>
  dialect === 'postgres'
    ? Object.assign(new Error('deadlock detected'), { code: '40P01' })
    : Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe.each(DIALECTS)('unit of work retries on $name', (dialect) => {
  let db: Db;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const database = await dialect.create();
    dispose = database.dispose;
    db = createDb(parseDatabaseUrl(database.url));
    await migrateToLatest(db.kysely);
  });
  afterAll(async () => {
    await db.destroy();
    await dispose();
  });

  function setup() {
    const hub = new ChangeHub();
    const published: ChangeSet[] = [];
    hub.subscribe((changes) => published.push(changes));
    const retries = { retried: 0, gave_up: 0 };
    const uow = createUnitOfWork({
      db: db.kysely,
      clock: systemClock,
      hub,
      origin: 'test',
      retries,
      retry: { waitMs: 60, pauseMs: 10 },
    });
    return { uow, published, retries };
  }
  const auditsOf = async (action: string) =>
    (await db.kysely.selectFrom('audit_events').select('action').where('action', '=', action).execute()).length;

  it('runs a transaction that lost a race again, keeping only what the second run wrote', async () => {
    const { uow, published, retries } = setup();
    let runs = 0;
    const result = await uow(cliActor, async (_trx, fx) => {
      runs++;
      await fx.audit({ action: 'test.retried' });
      fx.identityChanged('telegram', `run-${runs}`);
      if (runs === 1) throw lostRace(dialect.name);
      return 'done';
    });
    expect(result).toBe('done');
    expect(runs).toBe(2);
    expect(await auditsOf('test.retried')).toBe(1);
    expect(published).toEqual([{ identities: [['telegram', 'run-2']], apiKeyHashes: [] }]);
    expect(retries).toEqual({ retried: 1, gave_up: 0 });
  });

  it('gives up with a 503 error (Retry-After) when the race is lost again, writing nothing', async () => {
    const { uow, published, retries } = setup();
    let runs = 0;
    const failing = uow(cliActor, async (_trx, fx) => {
      runs++;
      await fx.audit({ action: 'test.gave_up' });
      throw lostRace(dialect.name);
    });
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect(error).toMatchObject({ code: 'unavailable', retryAfterSeconds: 1 });
    // PostgreSQL: once more. SQLite: every 10 ms for 60 ms, without blocking the event loop.
    if (dialect.name === 'postgres') expect(runs).toBe(2);
    else expect(runs).toBeGreaterThanOrEqual(3);
    expect(retries).toEqual({ retried: runs - 1, gave_up: 1 });
    expect(await auditsOf('test.gave_up')).toBe(0);
    expect(published).toEqual([]);
  });

  it('does not run again for any other error', async () => {
    const { uow, retries } = setup();
    let runs = 0;
    const error = await uow(cliActor, async () => {
      runs++;
      throw conflict('taken');
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'conflict' });
    expect(runs).toBe(1);
    expect(retries).toEqual({ retried: 0, gave_up: 0 });
  });
});

describe('a race lost twice, over HTTP', () => {
  it('is a 503 in the contract shape with Retry-After', async () => {
    const app = Fastify();
    app.setErrorHandler(errorHandler);
    app.get('/busy', async () => {
      throw databaseBusy();
    });
    const response = await app.inject({ url: '/busy' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json()).toEqual({ detail: expect.stringContaining('try again') });
    await app.close();
  });
});
