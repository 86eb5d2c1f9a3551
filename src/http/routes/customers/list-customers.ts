import { Type } from '@sinclair/typebox';
import { errors, Nullable } from '../../schemas/common.js';
import { CustomerSchema } from '../../schemas/resources.js';
import type { App } from '../../types.js';

const querystring = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 320, description: 'Exact email (case-insensitive)' })),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the email or the name, in any case' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor of the previous page' })),
});

export default function listCustomers(app: App) {
  app.get('/customers', {
    config: { auth: 'runtime' },
    schema: {
      tags: ['Customers'],
      summary: 'List Customers',
      description: 'Newest first, with cursor pagination.',
      querystring,
      response: {
        200: Type.Object({ items: Type.Array(CustomerSchema), next_cursor: Nullable(Type.String()) }),
        ...errors(401, 403, 422),
      },
    },
    handler: (request) => app.services.customers.list(request.query),
  });
}
