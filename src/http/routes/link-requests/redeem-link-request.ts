import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { decisionFields, LinkRequestApprovalSchema } from '../../schemas/link-requests.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 32, description: 'Case-insensitive; spaces and hyphens are ignored' }),
  ...decisionFields(),
});

export default function redeemLinkRequest(app: App) {
  app.post('/link-requests/redeem', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Link requests'],
      summary: 'Redeem Link Code',
      description:
        'The operator types in the code the person read out: the account is linked to `customer_id` (or to a new customer made from `customer`), verified (`verified_via: "link_request"`). Every failure of the code is the same 400; failures are limited per API key (RATE_LIMIT_CLAIM_PER_KEY).',
      body,
      response: { 200: LinkRequestApprovalSchema, ...errors(400, 401, 403, 404, 409, 422, 429) },
    },
    handler: (request) => app.services.linkRequests.redeem(actorOf(request), request.body),
  });
}
