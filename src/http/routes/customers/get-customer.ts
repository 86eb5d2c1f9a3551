import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { CustomerSchema } from '../../schemas/resources.js';
import type { App } from '../../types.js';

export const CustomerParams = Type.Object({ customer_id: Uuid() });

export default function getCustomer(app: App) {
  app.get('/customers/:customer_id', {
    config: { auth: 'runtime' },
    schema: {
      tags: ['Customers'],
      summary: 'Get Customer',
      description: 'A customer that was merged into another is a 410 with `merged_into`.',
      params: CustomerParams,
      response: { 200: CustomerSchema, ...errors(401, 403, 404, 410, 422) },
    },
    handler: (request) => app.services.customers.get(request.params.customer_id),
  });
}
