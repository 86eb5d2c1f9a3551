import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { MergeSchema } from '../../schemas/merges.js';
import type { App } from '../../types.js';

export default function listMerges(app: App) {
  app.get('/merges', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customers'],
      summary: 'List Merges',
      description:
        'Merges, newest first; with customer_id, those it took part in as target or source (undone ones too, with undone_at).',
      querystring: Type.Object({
        customer_id: Type.Optional(Uuid()),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      }),
      response: { 200: Type.Array(MergeSchema), ...errors(401, 403, 422) },
    },
    handler: (request) => app.services.merges.list(request.query.customer_id, request.query.limit),
  });
}
