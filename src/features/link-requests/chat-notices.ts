import { randomUUID } from 'node:crypto';
import type { Executor } from '../../db/database.js';
import { insertChatNotice } from './link-requests.repository.js';
import type { ChatNoticeTable, LinkRequestRow } from './link-requests.table.js';

export type ChatNoticeKind = ChatNoticeTable['kind'];

/**
 * The person who asked from a chat is told of the decision on that chat. Called inside the
 * decision's transaction, so the notice exists exactly when the decision does (a rolled-back
 * approval tells nobody); channels/chat-notice-dispatcher.ts delivers `chat_notices` rows (at
 * least once, never twice), and the unique (link_request_id, kind) makes sure a decision is
 * never enqueued twice. Requests made
 * through the API (no `reply_to`) have nobody to tell.
 */
export async function enqueueDecisionNotice(
  trx: Executor,
  request: LinkRequestRow,
  kind: ChatNoticeKind,
  nowIso: string,
): Promise<boolean> {
  if (request.origin !== 'chat' || request.reply_to === null) return false;
  await insertChatNotice(trx, {
    id: randomUUID(),
    link_request_id: request.id,
    kind,
    channel: request.channel,
    reply_to: request.reply_to,
    status: 'pending',
    next_attempt_at: nowIso,
    created_at: nowIso,
    updated_at: nowIso,
  });
  return true;
}
