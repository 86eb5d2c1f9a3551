/**
 * Where to tell a person, later, that their link request was decided: kept (as JSON) with a
 * request made from a chat, and copied into its chat notice. Each channel's own address:
 * - Telegram: the private chat with the bot (`chat_id`, the person's user id).
 * - WhatsApp: the business number that received the message, and the person's number (`to`) or,
 *   without one, their business-scoped user id (`recipient`).
 * - Slack: the user (a message to a user id goes to the app's direct messages with them), with
 *   the workspace and the channel the command came from.
 * - Discord: the user, who gets a direct message from the bot.
 */
export type ChatReplyTo =
  | { chat_id: number }
  | { phone_number_id: string; to: string }
  | { phone_number_id: string; recipient: string }
  | { user_id: string; team_id?: string | undefined; channel_id?: string | undefined };

export type ChatAddress =
  | { channel: 'telegram'; chatId: number }
  | { channel: 'whatsapp'; phoneNumberId: string; recipient: { to: string } | { recipient: string } }
  | { channel: 'slack'; userId: string }
  | { channel: 'discord'; userId: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' && value.length <= 200 ? value : undefined;

/** A stored reply_to read back for its channel; undefined when it is not one we wrote. */
export function addressOf(channel: string, json: string): ChatAddress | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  switch (channel) {
    case 'telegram':
      return Number.isSafeInteger(value.chat_id) ? { channel, chatId: value.chat_id as number } : undefined;
    case 'whatsapp': {
      const phoneNumberId = text(value.phone_number_id);
      const to = text(value.to);
      const recipient = text(value.recipient);
      if (!phoneNumberId || (!to && !recipient)) return undefined;
      return { channel, phoneNumberId, recipient: to ? { to } : { recipient: recipient as string } };
    }
    case 'slack':
    case 'discord': {
      const userId = text(value.user_id);
      return userId ? { channel, userId } : undefined;
    }
    default:
      return undefined;
  }
}
