import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { ChannelField, ExternalIdField, LookupResultSchema } from '../../schemas/resources.js';
import type { App } from '../../types.js';

const querystring = Type.Object({
  channel: ChannelField(),
  external_id: ExternalIdField(),
  instance_id: Type.Optional(Uuid({ description: 'Optional instance scope' })),
});

export default function lookupIdentity(app: App) {
  app.get('/customers/lookup/identity', {
    config: { auth: 'runtime', rateLimitGroup: 'lookup' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Lookup Identity',
      description:
        'Reverse lookup: find which customer owns a given channel identity. With `instance_id`, the identity scoped to that instance wins, else the unscoped one; without it, only the unscoped one is found.',
      querystring,
      response: { 200: LookupResultSchema, ...errors(401, 403, 404, 422) },
    },
    handler: (request) => app.services.identities.lookup(request.query),
  });
}
