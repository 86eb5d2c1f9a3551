import { Type } from '@sinclair/typebox';
import type { Config } from '../../../config.js';
import { SERVICE_VERSION } from '../../../internal/version.js';
import { errors, Nullable } from '../../schemas/common.js';
import type { App } from '../../types.js';

export const ServiceInfoSchema = Type.Object(
  {
    version: Type.String({ description: "The service's version (package.json)", examples: ['0.3.0'] }),
    claim_code_ttl_seconds: Type.Integer(),
    telegram_bot_username: Nullable(Type.String()),
    channels: Type.Object({
      telegram: Type.Boolean(),
      slack: Type.Boolean(),
      whatsapp: Type.Boolean(),
      discord: Type.Boolean(),
    }),
  },
  { $id: 'ServiceInfo' },
);

/** What a client (the dashboard) may know of this deployment: nothing secret. */
export default async function serviceInfoRoutes(app: App, options: { config: Config }) {
  const { config } = options;
  const info = {
    version: SERVICE_VERSION,
    claim_code_ttl_seconds: config.claimCodeTtlSeconds,
    telegram_bot_username: config.telegram.botUsername ?? null,
    channels: {
      telegram: Boolean(config.telegram.botToken && config.telegram.webhookSecret),
      slack: Boolean(config.slack.signingSecret),
      whatsapp: Boolean(config.whatsapp.appSecret && config.whatsapp.verifyToken),
      discord: Boolean(config.discord.publicKey),
    },
  };
  app.get('/service-info', {
    config: { auth: 'runtime' },
    schema: {
      tags: ['Health'],
      summary: 'Service Info',
      description:
        "The service's version and the settings a client may show: the claim-code lifetime, the Telegram bot for deep links, which chat webhooks are on.",
      response: {
        200: ServiceInfoSchema,
        ...errors(401, 403),
      },
    },
    handler: async () => info,
  });
}
