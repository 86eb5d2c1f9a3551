import { Type } from '@sinclair/typebox';
import { errors, Uuid } from '../../schemas/common.js';
import { UndoResultSchema } from '../../schemas/merges.js';
import { type App, actorOf } from '../../types.js';

export default function undoMerge(app: App) {
  app.post('/merges/:merge_id/undo', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customers'],
      summary: 'Undo Merge',
      description:
        "Brings the source customer back with its own id, email, name, metadata and created_at, and moves back the identities that came from it and are still on the target. Their claim codes are void. 409 when it was undone already, when the source's email has been taken since, or when the target has been merged into another customer since (undo that later merge first; the 409 names it).",
      params: Type.Object({ merge_id: Uuid() }),
      response: { 200: UndoResultSchema, ...errors(401, 403, 404, 409, 422) },
    },
    handler: (request) => app.services.merges.undo(actorOf(request), request.params.merge_id),
  });
}
