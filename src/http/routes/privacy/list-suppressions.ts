import { Type } from '@sinclair/typebox';
import { errors, Nullable, Timestamp, Uuid } from '../../schemas/common.js';
import type { App } from '../../types.js';

const SuppressionSchema = Type.Object({
  id: Uuid(),
  kind: Type.Union([Type.Literal('email'), Type.Literal('external_id')]),
  channel: Nullable(Type.String({ description: 'The channel of an external id; null for an email' })),
  created_at: Timestamp(),
});

export default function listSuppressions(app: App) {
  app.get('/suppressions', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Privacy'],
      summary: 'List Suppressions',
      description:
        'Values of erased people that may not come back, newest first. Kept as keyed hashes: the value itself is never stored, so only its kind and channel show.',
      response: { 200: Type.Array(SuppressionSchema), ...errors(401, 403) },
    },
    handler: () => app.services.suppressions.list(),
  });
}
