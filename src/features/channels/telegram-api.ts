import { NotConfiguredError, PlatformCallError, postJson } from './platform-call.js';

export interface TelegramApiSettings {
  botToken: string | undefined;
  apiBase: string;
}

/** Telegram's error body: `{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}`. */
const describe = (body: unknown) =>
  typeof body === 'object' && body !== null && typeof (body as { description?: unknown }).description === 'string'
    ? String((body as { description: string }).description).slice(0, 200)
    : '';

/**
 * Sends a text to a chat with the Bot API's sendMessage, a plain fetch (the webhook's replies go
 * through grammY's context; a message of our own needs no bot object). The token is in the URL,
 * so errors name the method only.
 */
export async function sendTelegramMessage(
  settings: TelegramApiSettings,
  input: { chatId: number; text: string },
): Promise<void> {
  if (!settings.botToken) throw new NotConfiguredError('TELEGRAM_BOT_TOKEN');
  const answer = await postJson(`${settings.apiBase}/bot${settings.botToken}/sendMessage`, {
    what: 'Telegram sendMessage',
    body: { chat_id: input.chatId, text: input.text, link_preview_options: { is_disabled: true } },
    describe,
  });
  if (typeof answer !== 'object' || answer === null || (answer as { ok?: unknown }).ok !== true) {
    throw new PlatformCallError(`Telegram sendMessage answered without ok: ${describe(answer)}`, 200, false);
  }
}
