import type { UserFromGetMe } from 'grammy/types';
import type { ClaimsService } from '../claims/claims.service.js';
import type { LinkRequestsService } from '../link-requests/link-requests.service.js';
import { answerChatCommand } from './chat-commands.js';
import { parseTelegramText } from './claim-command.js';
import type { RedeemLogger } from './redeem-from-chat.js';
import { handledBefore, type ReplayGuard } from './replay-guard.js';

export interface TelegramSettings {
  botToken: string;
  botUsername: string | undefined;
  apiBase: string;
}

/**
 * What grammY would learn from getMe. The bot's id is the token's first part, and its username is
 * configured, so that handling an update never needs a round trip to Telegram first.
 */
function botInfoOf(settings: TelegramSettings): UserFromGetMe {
  const id = Number(settings.botToken.split(':')[0]);
  return {
    id: Number.isSafeInteger(id) ? id : 0,
    is_bot: true,
    first_name: settings.botUsername ?? 'bot',
    username: settings.botUsername ?? 'bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
}

/**
 * A grammY bot that answers `/claim CODE`, `/claim@OurBot CODE`, `/start claim_CODE` and
 * `/link [CODE]` (`/link@OurBot [CODE]`), fed one
 * update at a time by the webhook route (`bot.handleUpdate`), replying with sendMessage through
 * `apiBase`. grammY brings the Update types, the per-update context and a Bot API client; our own
 * parser reads the command, so that the three chat platforms share one grammar.
 */
export async function createTelegramBot(
  settings: TelegramSettings,
  deps: { claims: ClaimsService; linkRequests: LinkRequestsService; log: RedeemLogger; chatUpdates: ReplayGuard },
) {
  // Loaded only when Telegram is configured: grammY costs 6 MB of memory to every other server.
  const { Bot } = await import('grammy');
  const botInfo = botInfoOf(settings);
  const bot = new Bot(settings.botToken, {
    botInfo,
    // A slow Bot API must not hold the webhook for grammY's default of 500 seconds.
    client: { apiRoot: settings.apiBase, timeoutSeconds: 10 },
  });

  bot.on('message:text', async (ctx) => {
    const command = parseTelegramText(ctx.message.text, settings.botUsername);
    if (!command) return;
    // Telegram redelivers an update it thinks was not taken: answered once, counted once. The
    // update_id is per bot, hence the bot's id in the key.
    if (await handledBefore(deps.chatUpdates, deps.log, 'telegram', `${botInfo.id}:${ctx.update.update_id}`)) return;
    const text = await answerChatCommand(deps, {
      channel: 'telegram',
      externalId: String(ctx.message.from.id),
      command,
      usage: '/claim',
      // A decision is told in the person's private chat with the bot, never in a group.
      replyTo: { chat_id: ctx.message.from.id },
      privateChat: ctx.message.chat.type === 'private',
    });
    try {
      await ctx.reply(text, {
        reply_parameters: { message_id: ctx.message.message_id, allow_sending_without_reply: true },
      });
    } catch (error) {
      // The claim itself is done; a lost answer must not make Telegram redeliver the update.
      deps.log.warn({ err: error }, 'could not answer on Telegram');
    }
  });

  return bot;
}
