import { Type } from '@sinclair/typebox';
import { identityInputFields } from '../../../features/identities/identity-fields.js';
import { errors } from '../../schemas/common.js';
import { IdentitySchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';
import { CustomerParams } from '../customers/get-customer.js';

const body = Type.Object(identityInputFields());

export default function createIdentity(app: App) {
  app.post('/customers/:customer_id/identities', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Create Customer Identity',
      description: 'Link an external channel identity to a customer.',
      params: CustomerParams,
      body,
      response: { 201: IdentitySchema, ...errors(401, 403, 404, 409, 422) },
    },
    handler: async (request, reply) => {
      const identity = await app.services.identities.create(actorOf(request), request.params.customer_id, request.body);
      return reply.code(201).send(identity);
    },
  });
}
