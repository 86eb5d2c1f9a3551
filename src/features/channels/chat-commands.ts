import type { ClaimsService } from '../claims/claims.service.js';
import type { LinkRequestsService } from '../link-requests/link-requests.service.js';
import type { ChatReplyTo } from './chat-reply-to.js';
import type { ChatCommand } from './claim-command.js';
import { replies } from './claim-replies.js';
import { linkFromChat } from './link-from-chat.js';
import { type ChatChannel, type RedeemLogger, redeemFromChat } from './redeem-from-chat.js';

export interface ChatCommandDeps {
  claims: ClaimsService;
  linkRequests: LinkRequestsService;
  log: RedeemLogger;
}

/**
 * The one place where a chat command becomes an answer, whichever channel it came from, so that
 * every channel gives the same outcomes and the same texts (claim-replies.ts, link-replies.ts).
 * Each channel only parses its platform's message into a ChatCommand and delivers the text this
 * returns. `usage` is how the claim command is written there: `/claim` on Telegram and Discord,
 * `claim` on WhatsApp, the slash command's own name on Slack. `replyTo` is where the person is told
 * of a decision on a link request they ask for; `privateChat` is false in a group chat.
 */
export async function answerChatCommand(
  deps: ChatCommandDeps,
  input: {
    channel: ChatChannel;
    externalId: string;
    command: ChatCommand;
    usage: string;
    replyTo: ChatReplyTo;
    privateChat?: boolean;
  },
): Promise<string> {
  const { command } = input;
  switch (command.kind) {
    case 'usage':
      return replies.usage(input.usage);
    case 'claim':
      return redeemFromChat(deps.claims, deps.log, {
        channel: input.channel,
        externalId: input.externalId,
        code: command.code,
      });
    case 'link':
      return linkFromChat(deps.linkRequests, deps.log, {
        channel: input.channel,
        externalId: input.externalId,
        code: command.code,
        replyTo: input.replyTo,
        privateChat: input.privateChat ?? true,
      });
  }
}
