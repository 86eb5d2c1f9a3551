import { Type } from '@sinclair/typebox';
import { EmailField } from '../../../features/customers/customer-fields.js';
import { errors } from '../../schemas/common.js';
import { ChannelField, ExternalIdField } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  channel: Type.Optional(ChannelField()),
  external_id: Type.Optional(ExternalIdField()),
  email: Type.Optional(EmailField()),
});

export default function liftSuppression(app: App) {
  app.post('/suppressions/lift', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Privacy'],
      summary: 'Lift Suppression',
      description:
        'Lets an erased value come back: `{"channel", "external_id"}` or `{"email"}`, normalized as when stored (`+1 (415) 555-2671` and `14155552671` are one number). 404 when it is not suppressed.',
      body,
      response: { 204: Type.Null({ description: 'Lifted' }), ...errors(401, 403, 404, 422) },
    },
    handler: async (request, reply) => {
      await app.services.suppressions.lift(actorOf(request), request.body);
      return reply.code(204).send(null);
    },
  });
}
