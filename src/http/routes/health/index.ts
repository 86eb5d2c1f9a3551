import { Type } from '@sinclair/typebox';
import { diskFullRecently } from '../../../db/errors.js';
import { DomainError, RetryLaterError } from '../../../internal/errors.js';
import { errors } from '../../schemas/common.js';
import type { App } from '../../types.js';

/** /healthz's answer, the same from the route and from the fast path (src/http/fast-path.ts). */
export const HEALTH_PATH = '/healthz';
export const HEALTH_ANSWER = { status: 'ok' } as const;

export default async function healthRoutes(app: App) {
  app.get(HEALTH_PATH, {
    schema: {
      tags: ['Health'],
      summary: 'Liveness',
      response: { 200: Type.Object({ status: Type.Literal('ok') }) },
    },
    // Not async: a promise and a turn of the microtask queue for a constant answer.
    handler: () => HEALTH_ANSWER,
  });

  app.get('/readyz', {
    schema: {
      tags: ['Health'],
      summary:
        "Readiness: the database answers, its disk took the last write, and (PostgreSQL) other replicas' changes are followed",
      response: {
        200: Type.Object({
          status: Type.Literal('ready'),
          database: Type.String(),
          /** PostgreSQL servers: the LISTEN connection that keeps the caches in step with other replicas. */
          change_listener: Type.Optional(Type.Literal('connected')),
        }),
        ...errors(503),
      },
    },
    handler: async () => {
      await app.services.ping();
      // Reads still work, but every write would fail: not ready until one succeeds again.
      if (diskFullRecently()) throw diskFull();
      const listener = app.services.changeListener;
      if (!listener) return { status: 'ready' as const, database: app.services.db.dialect };
      // Without it, this replica's caches could answer what other replicas have changed since.
      if (!listener.status().connected) throw changesNotFollowed();
      return { status: 'ready' as const, database: app.services.db.dialect, change_listener: 'connected' as const };
    },
  });
}

const changesNotFollowed = () =>
  new DomainError('unavailable', "Not following other replicas' changes (the LISTEN connection is down); reconnecting");

const diskFull = () =>
  new RetryLaterError("The database's disk is full: writes fail until space is freed and a write succeeds", 30);
