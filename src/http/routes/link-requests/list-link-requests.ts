import { Type } from '@sinclair/typebox';
import { errors, Nullable } from '../../schemas/common.js';
import { LinkRequestSchema, LinkRequestStatusField } from '../../schemas/link-requests.js';
import type { App } from '../../types.js';

const querystring = Type.Object({
  status: Type.Optional(LinkRequestStatusField()),
  channel: Type.Optional(Type.String({ maxLength: 64, description: 'Trimmed and lowercased like a channel' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor of the previous page' })),
});

export default function listLinkRequests(app: App) {
  app.get('/link-requests', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Link requests'],
      summary: 'List Link Requests',
      description: 'Newest first, with cursor pagination; never a code.',
      querystring,
      response: {
        200: Type.Object({ items: Type.Array(LinkRequestSchema), next_cursor: Nullable(Type.String()) }),
        ...errors(401, 403, 422),
      },
    },
    handler: (request) => app.services.linkRequests.list(request.query),
  });
}
