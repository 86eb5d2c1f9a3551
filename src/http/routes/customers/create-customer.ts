import { Type } from '@sinclair/typebox';
import { customerInputFields } from '../../../features/customers/customer-fields.js';
import { errors } from '../../schemas/common.js';
import { CustomerSchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object(customerInputFields());

export default function createCustomer(app: App) {
  app.post('/customers', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customers'],
      summary: 'Create Customer',
      body,
      response: { 201: CustomerSchema, ...errors(401, 403, 409, 422) },
    },
    handler: async (request, reply) => {
      const customer = await app.services.customers.create(actorOf(request), request.body);
      return reply.code(201).send(customer);
    },
  });
}
