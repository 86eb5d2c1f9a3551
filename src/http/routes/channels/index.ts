import type { Config } from '../../../config.js';
import type { App } from '../../types.js';

// The chat webhooks (Telegram, Slack, WhatsApp) are registered here under /v1/channels.
export default async function channelRoutes(_app: App, _options: { config: Config }) {}
