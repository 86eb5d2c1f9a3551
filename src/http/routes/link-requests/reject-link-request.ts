import { errors } from '../../schemas/common.js';
import { LinkRequestParams, LinkRequestSchema } from '../../schemas/link-requests.js';
import { type App, actorOf } from '../../types.js';

export default function rejectLinkRequest(app: App) {
  app.post('/link-requests/:link_request_id/reject', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Link requests'],
      summary: 'Reject Link Request',
      description: 'Rejects a pending request; its code is void. 409 unless the request is pending.',
      params: LinkRequestParams,
      response: { 200: LinkRequestSchema, ...errors(401, 403, 404, 409, 422) },
    },
    handler: (request) => app.services.linkRequests.reject(actorOf(request), request.params.link_request_id),
  });
}
