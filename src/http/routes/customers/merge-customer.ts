import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { MergePreviewSchema, MergeResultSchema } from '../../schemas/merges.js';
import { type App, actorOf } from '../../types.js';
import { CustomerParams } from './get-customer.js';

const body = Type.Object({
  source_customer_id: Uuid({ description: 'The customer merged into this one; it is gone afterwards' }),
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Only say what would happen' })),
});

export default function mergeCustomer(app: App) {
  app.post('/customers/:customer_id/merge', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customers'],
      summary: 'Merge Customers',
      description:
        "Merges the source customer into this one in one transaction: every identity of the source moves here as it is (verification kept), metadata is merged (this customer's keys win), this customer's name is kept unless null, and the source is gone (GET on it is a 410 with merged_into; its email is free again). With dry_run: true, a preview and nothing written. Undo with POST /v1/merges/{merge_id}/undo. 409 when source_customer_id is this customer; 404 when either is unknown.",
      params: CustomerParams,
      body,
      response: {
        200: Type.Union([MergeResultSchema, MergePreviewSchema]),
        ...errors(401, 403, 404, 409, 410, 422),
      },
    },
    handler: (request) => app.services.merges.merge(actorOf(request), request.params.customer_id, request.body),
  });
}
