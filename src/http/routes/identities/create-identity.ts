import { Type } from '@sinclair/typebox';
import { errors, Metadata, Nullable, Uuid } from '../../schemas/common.js';
import { ChannelField, ExternalIdField, IdentitySchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';
import { CustomerParams } from '../customers/get-customer.js';

const body = Type.Object({
  channel: ChannelField(),
  external_id: ExternalIdField(),
  instance_id: Type.Optional(Nullable(Uuid({ description: 'Optional: scope to a specific instance' }))),
  role_override: Type.Optional(
    Nullable(
      Type.String({
        maxLength: 64,
        description: "Override channel default role: 'owner' for elevated access, null for default",
      }),
    ),
  ),
  display_name: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  metadata: Type.Optional(Metadata()),
});

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
