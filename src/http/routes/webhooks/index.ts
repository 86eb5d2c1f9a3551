import type { App } from '../../types.js';
import createWebhook from './create-webhook.js';
import deleteWebhook from './delete-webhook.js';
import getWebhook from './get-webhook.js';
import listWebhookDeliveries from './list-webhook-deliveries.js';
import listWebhooks from './list-webhooks.js';
import retryWebhookDelivery from './retry-webhook-delivery.js';
import rotateWebhookSecret from './rotate-webhook-secret.js';
import updateWebhook from './update-webhook.js';

export default async function webhookRoutes(app: App) {
  for (const register of [
    createWebhook,
    listWebhooks,
    getWebhook,
    updateWebhook,
    deleteWebhook,
    rotateWebhookSecret,
    listWebhookDeliveries,
    retryWebhookDelivery,
  ]) {
    register(app);
  }
}
