import { Type } from '@sinclair/typebox';
import { errors, Nullable, Uuid } from '../../schemas/common.js';
import { ChannelField, ExternalIdField, IdentitySchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  channel: ChannelField(),
  external_id: ExternalIdField(),
  instance_id: Type.Optional(Nullable(Uuid())),
  code: Type.String({ minLength: 1, maxLength: 32, description: 'Case-insensitive; spaces and hyphens are ignored' }),
});

export default function linkIdentity(app: App) {
  app.post('/customers/identities/link', {
    config: { auth: 'runtime' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Link An Account With A Code',
      description:
        'Called by the runtime when a person sends `/link CODE` from an account that is linked and verified (the sender: channel, external_id, instance_id): the account of the pending link request with that code is linked to the sender\'s customer, verified (`verified_via: "linked_identity"`), and the request is approved. Every failure is the same 400; after 5 failures from one sender account within an hour, 429 until the hour is over.',
      body,
      response: { 201: IdentitySchema, ...errors(400, 401, 403, 422, 429) },
    },
    handler: async (request, reply) => {
      const identity = await app.services.linkRequests.link(actorOf(request), request.body);
      return reply.code(201).send(identity);
    },
  });
}
