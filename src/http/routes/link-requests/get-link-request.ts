import { errors } from '../../schemas/common.js';
import { LinkRequestParams, LinkRequestSchema } from '../../schemas/link-requests.js';
import type { App } from '../../types.js';

export default function getLinkRequest(app: App) {
  app.get('/link-requests/:link_request_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Link requests'],
      summary: 'Get Link Request',
      params: LinkRequestParams,
      response: { 200: LinkRequestSchema, ...errors(401, 403, 404, 422) },
    },
    handler: (request) => app.services.linkRequests.get(request.params.link_request_id),
  });
}
