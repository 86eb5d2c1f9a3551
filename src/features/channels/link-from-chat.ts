import { DomainError, RateLimitedError } from '../../internal/errors.js';
import type { LinkRequestsService } from '../link-requests/link-requests.service.js';
import type { ChatReplyTo } from './chat-reply-to.js';
import { replies } from './claim-replies.js';
import { linkReplies } from './link-replies.js';
import { type ChatChannel, type RedeemLogger, webhookActor } from './redeem-from-chat.js';

/** The API accepts codes of at most 32 characters; longer text cannot be a code. */
const MAX_CODE_INPUT = 32;

export interface LinkFromChatInput {
  channel: ChatChannel;
  externalId: string;
  /** Undefined for `/link` alone (ask for a code), else the code typed after it. */
  code: string | undefined;
  /** Where the decision on a request is told later (kept with the request). */
  replyTo: ChatReplyTo;
  /** False in a group chat, where a code in the answer would be read by everyone. */
  privateChat: boolean;
}

/**
 * `/link` and `/link CODE` from a chat, answered alike on every channel. Like a claim, never
 * throws for the sender's mistakes: every outcome is a reply, so that the platform gets its 200.
 */
export async function linkFromChat(
  linkRequests: LinkRequestsService,
  log: RedeemLogger,
  input: LinkFromChatInput,
): Promise<string> {
  const actor = webhookActor(input.channel);
  try {
    if (input.code === undefined) {
      if (!input.privateChat) return linkReplies.privateOnly();
      const asked = await linkRequests.requestFromChat(actor, {
        channel: input.channel,
        external_id: input.externalId,
        reply_to: input.replyTo,
      });
      if (asked.ok) return linkReplies.code(asked.code, asked.ttl_seconds, !asked.created);
      if (asked.reason === 'already_linked') return linkReplies.alreadyLinked(input.channel);
      if (asked.reason === 'too_many_pending') return linkReplies.busy(asked.retry_after_seconds);
      if (asked.reason === 'refused') return linkReplies.refused();
      return replies.rateLimited(asked.retry_after_seconds);
    }
    if (input.code.length > MAX_CODE_INPUT) return linkReplies.invalid();
    const linked = await linkRequests.linkFromChat(
      actor,
      { channel: input.channel, external_id: input.externalId },
      input.code,
    );
    if (linked.ok) return linkReplies.linked(linked.identity.channel, linked.identity.external_id);
    if (linked.reason === 'rate_limited') return replies.rateLimited(linked.retry_after_seconds);
    return linkReplies.invalid();
  } catch (error) {
    if (error instanceof RateLimitedError) return replies.rateLimited(error.retryAfterSeconds);
    // A sender id that does not normalize (never from a real platform) can ask for nothing.
    if (error instanceof DomainError && error.code === 'validation') {
      return input.code === undefined ? linkReplies.unavailable() : linkReplies.invalid();
    }
    log.warn({ err: error, channel: input.channel }, 'chat link failed');
    return linkReplies.unavailable();
  }
}
