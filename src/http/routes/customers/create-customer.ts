import { Type } from '@sinclair/typebox';
import { errors, Metadata, Nullable } from '../../schemas/common.js';
import { CustomerSchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  email: Type.String({ format: 'email', 'x-email': true, maxLength: 320, examples: ['steve@acme.com'] }),
  name: Type.Optional(Nullable(Type.String({ maxLength: 255, examples: ['Steve'] }))),
  metadata: Type.Optional(Metadata()),
});

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
