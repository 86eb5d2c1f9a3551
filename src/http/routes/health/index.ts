import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import type { App } from '../../types.js';

export default async function healthRoutes(app: App) {
  app.get('/healthz', {
    schema: {
      tags: ['Health'],
      summary: 'Liveness',
      response: { 200: Type.Object({ status: Type.Literal('ok') }) },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    schema: {
      tags: ['Health'],
      summary: 'Readiness: the database answers',
      response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }), ...errors(503) },
    },
    handler: async () => {
      await app.services.ping();
      return { status: 'ready' as const, database: app.services.db.dialect };
    },
  });
}
