import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { LinkRequestSchema } from '../../schemas/link-requests.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 32, description: 'Case-insensitive; spaces and hyphens are ignored' }),
});

export default function lookupLinkRequest(app: App) {
  app.post('/link-requests/lookup', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Link requests'],
      summary: 'Look Up Link Code',
      description:
        'The pending request a code belongs to (who asked, on which channel, when), without spending the code: the operator checks it before choosing a customer and redeeming. Every failure of the code is the same 400 as a redemption, and counts against the same per-key budget (RATE_LIMIT_CLAIM_PER_KEY).',
      body,
      response: { 200: LinkRequestSchema, ...errors(400, 401, 403, 422, 429) },
    },
    handler: (request) => app.services.linkRequests.lookup(actorOf(request), request.body.code),
  });
}
