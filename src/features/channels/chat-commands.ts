import type { ClaimsService } from '../claims/claims.service.js';
import type { ChatCommand } from './claim-command.js';
import { replies } from './claim-replies.js';
import { type ChatChannel, type RedeemLogger, redeemFromChat } from './redeem-from-chat.js';

export interface ChatCommandDeps {
  claims: ClaimsService;
  log: RedeemLogger;
}

/**
 * The one place where a chat command becomes an answer, whichever channel it came from, so that
 * every channel gives the same outcomes and the same texts (claim-replies.ts). Each channel only
 * parses its platform's message into a ChatCommand and delivers the text this returns.
 * `usage` is how the claim command is written there: `/claim` on Telegram and Discord, `claim` on
 * WhatsApp, the slash command's own name on Slack.
 */
export async function answerChatCommand(
  deps: ChatCommandDeps,
  input: { channel: ChatChannel; externalId: string; command: ChatCommand; usage: string },
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
      // Link requests (CONTRACT.md part three) are answered here, for every channel at once, when
      // their service is in place; until then the person is told plainly, and nothing changes.
      return replies.linkUnavailable();
  }
}
