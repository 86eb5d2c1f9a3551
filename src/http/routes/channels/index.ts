import type { Config } from '../../../config.js';
import type { App } from '../../types.js';
import discordInteractions from './discord-interactions.js';
import slackCommands from './slack-commands.js';
import telegramWebhook from './telegram-webhook.js';
import whatsappWebhook from './whatsapp-webhook.js';

/**
 * The chat webhooks under /v1/channels. They need no X-Api-Key (no `config.auth`): each platform
 * authenticates with its own secret. A channel that is not configured has no route at all (404).
 */
export default async function channelRoutes(app: App, options: { config: Config }) {
  const { telegram, slack, whatsapp, discord } = options.config;
  await telegramWebhook(app, telegram);
  // Slack, WhatsApp and Discord read raw bodies for their signatures: each in its own scope, so that the
  // application's JSON parser stays in place for every other route.
  await app.register(slackCommands, { signingSecret: slack.signingSecret });
  await app.register(whatsappWebhook, { whatsapp });
  await app.register(discordInteractions, { discord });
}
