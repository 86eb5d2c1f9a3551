import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { decisionFields, LinkRequestApprovalSchema, LinkRequestParams } from '../../schemas/link-requests.js';
import { type App, actorOf } from '../../types.js';

const body = Type.Object(decisionFields());

export default function approveLinkRequest(app: App) {
  app.post('/link-requests/:link_request_id/approve', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Link requests'],
      summary: 'Approve Link Request',
      description:
        'Approves a pending request without its code: the account is linked to `customer_id` (or to a new customer made from `customer`) **unverified**, since nothing proves the person. 409 unless the request is pending.',
      params: LinkRequestParams,
      body,
      response: { 200: LinkRequestApprovalSchema, ...errors(401, 403, 404, 409, 422) },
    },
    handler: (request) =>
      app.services.linkRequests.approve(actorOf(request), request.params.link_request_id, request.body),
  });
}
