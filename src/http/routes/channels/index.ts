import type { App } from '../../types.js';

// Placeholder: the chat webhooks (Telegram, Slack, WhatsApp) are registered here under /v1/channels.
export default async function channelRoutes(_app: App) {}
