import { Type } from '@sinclair/typebox';
import type { Update } from 'grammy/types';
import type { Config } from '../../../config.js';
import { safeEqual } from '../../../features/channels/signatures.js';
import { createTelegramBot } from '../../../features/channels/telegram-bot.js';
import { unauthorized } from '../../../internal/errors.js';
import { errors } from '../../schemas/common.js';
import type { App } from '../../types.js';

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Telegram's webhook: on only with TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET. */
export default async function telegramWebhook(app: App, telegram: Config['telegram']) {
  const { botToken, webhookSecret } = telegram;
  if (!botToken || !webhookSecret) return;
  const bot = await createTelegramBot(
    { botToken, botUsername: telegram.botUsername, apiBase: telegram.apiBase },
    {
      claims: app.services.claims,
      linkRequests: app.services.linkRequests,
      log: app.log,
      chatUpdates: app.services.chatUpdates,
    },
  );

  app.post('/telegram/webhook', {
    schema: {
      tags: ['Channels'],
      summary: 'Telegram Webhook',
      description:
        'Takes Bot API Update objects (set with setWebhook and secret_token = TELEGRAM_WEBHOOK_SECRET). Redeems `/claim CODE`, `/claim@Bot CODE` and `/start claim_CODE`, answers `/link` (a link request and its code, in a private chat) and `/link CODE` (links the account of that code to the verified sender), replying with sendMessage; any other update is acknowledged and ignored.',
      headers: Type.Object({ [SECRET_HEADER]: Type.Optional(Type.String()) }),
      response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors(401, 422) },
    },
    // Checked before the body is even parsed: a forged request learns nothing and changes nothing.
    // A wrong secret counts against the address like a wrong API key (429 once over the limit).
    onRequest: async (request) => {
      const presented = request.headers[SECRET_HEADER];
      if (typeof presented !== 'string' || !safeEqual(presented, webhookSecret)) {
        throw await app.authThrottle.failure(request, unauthorized('Invalid webhook secret token'));
      }
    },
    handler: async (request) => {
      const update = request.body as Update | undefined;
      if (typeof update === 'object' && update !== null && typeof update.update_id === 'number') {
        try {
          await bot.handleUpdate(update);
        } catch (error) {
          request.log.warn({ err: error }, 'Telegram update failed');
        }
      }
      return { ok: true };
    },
  });
}
