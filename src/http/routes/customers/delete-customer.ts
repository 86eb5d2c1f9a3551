import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { type App, actorOf } from '../../types.js';
import { CustomerParams } from './get-customer.js';

export default function deleteCustomer(app: App) {
  app.delete('/customers/:customer_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customers'],
      summary: 'Delete Customer',
      description: 'Its identities and their claim codes go with it.',
      params: CustomerParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errors(401, 403, 404, 422) },
    },
    handler: async (request, reply) => {
      await app.services.customers.delete(actorOf(request), request.params.customer_id);
      return reply.code(204).send(null);
    },
  });
}
