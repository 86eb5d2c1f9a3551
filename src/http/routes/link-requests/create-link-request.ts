import { Type } from '@sinclair/typebox';
import { ChannelField, DisplayNameField, ExternalIdField } from '../../../features/identities/identity-fields.js';
import { errors, Nullable, Uuid } from '../../schemas/common.js';
import { IssuedLinkRequestSchema } from '../../schemas/link-requests.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  channel: ChannelField(),
  external_id: ExternalIdField(),
  instance_id: Type.Optional(Nullable(Uuid({ description: 'Optional: the instance the account writes through' }))),
  display_name: Type.Optional(DisplayNameField()),
});

export default function createLinkRequest(app: App) {
  app.post('/link-requests', {
    config: { auth: 'runtime' },
    schema: {
      tags: ['Link requests'],
      summary: 'Create Link Request',
      description:
        'A stranger asks to be known: a pending request with a code that whoever approves types in. Asked again while the account has a pending request, the same request comes back (200) with a fresh code (the old one is void) and a renewed expires_at. 409 with `conflict` when the account is linked already in that scope; 429 when LINK_REQUESTS_MAX_PENDING requests are pending.',
      body,
      response: {
        201: IssuedLinkRequestSchema,
        200: IssuedLinkRequestSchema,
        ...errors(401, 403, 409, 422, 429),
      },
    },
    handler: async (request, reply) => {
      const issued = await app.services.linkRequests.create(actorOf(request), request.body);
      return reply
        .code(issued.created ? 201 : 200)
        .send({ ...issued.link_request, code: issued.code, instructions: issued.instructions });
    },
  });
}
