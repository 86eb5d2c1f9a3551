import { Type } from '@sinclair/typebox';
import { CustomerNameField, EmailField } from '../../../features/customers/customer-fields.js';
import { errors, Metadata } from '../../schemas/common.js';
import { CustomerSchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';
import { CustomerParams } from './get-customer.js';

const body = Type.Object({
  email: Type.Optional(EmailField()),
  name: Type.Optional(CustomerNameField()),
  metadata: Type.Optional(Metadata()),
});

export default function updateCustomer(app: App) {
  app.patch('/customers/:customer_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customers'],
      summary: 'Update Customer',
      description: 'Fields left out are kept; `{}` changes nothing.',
      params: CustomerParams,
      body,
      response: { 200: CustomerSchema, ...errors(401, 403, 404, 409, 422) },
    },
    handler: (request) => app.services.customers.update(actorOf(request), request.params.customer_id, request.body),
  });
}
