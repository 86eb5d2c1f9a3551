import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { IdentitySchema } from '../../schemas/resources.js';
import type { App } from '../../types.js';
import { CustomerParams } from '../customers/get-customer.js';

export default function listIdentities(app: App) {
  app.get('/customers/:customer_id/identities', {
    config: { auth: 'runtime' },
    schema: {
      tags: ['Customer identities'],
      summary: 'List Customer Identities',
      description: 'List all external identities linked to a customer, oldest first.',
      params: CustomerParams,
      querystring: Type.Object({
        channel: Type.Optional(Type.String({ maxLength: 64, description: 'Filter by channel' })),
      }),
      response: { 200: Type.Array(IdentitySchema), ...errors(401, 403, 404, 422) },
    },
    handler: (request) => app.services.identities.list(request.params.customer_id, request.query.channel),
  });
}
