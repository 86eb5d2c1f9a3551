import { Type } from '@sinclair/typebox';
import type { Config } from '../../../config.js';
import { webhookActor } from '../../../features/channels/redeem-from-chat.js';
import { safeEqual, verifyMetaSignature } from '../../../features/channels/signatures.js';
import { handleWhatsAppText } from '../../../features/channels/whatsapp-handler.js';
import { platformNoticesOf, textMessagesOf } from '../../../features/channels/whatsapp-webhook.js';
import { forbidden, unauthorized } from '../../../internal/errors.js';
import { errors } from '../../schemas/common.js';
import type { App } from '../../types.js';
import { answerNotFound, keepRawBodies, rawBodyOf } from './raw-body.js';

const Handshake = Type.Object({
  'hub.mode': Type.Optional(Type.String()),
  'hub.verify_token': Type.Optional(Type.String()),
  'hub.challenge': Type.Optional(Type.String({ maxLength: 256 })),
});

/** WhatsApp Cloud API webhook: on only with WHATSAPP_VERIFY_TOKEN and WHATSAPP_APP_SECRET. */
export default async function whatsappWebhook(app: App, options: { whatsapp: Config['whatsapp'] }) {
  const { verifyToken, appSecret, accessToken, apiBase } = options.whatsapp;
  const off = !verifyToken || !appSecret;
  if (!off && !accessToken) app.log.warn('WHATSAPP_ACCESS_TOKEN is not set: WhatsApp claims work, but get no answer');
  keepRawBodies(app);

  const offOptions = off ? { onRequest: answerNotFound } : {};

  app.get('/whatsapp/webhook', {
    ...offOptions,
    schema: {
      hide: off,
      tags: ['Channels'],
      summary: 'WhatsApp Webhook Verification',
      description:
        "Meta's subscription handshake: answers `hub.challenge` when `hub.verify_token` is WHATSAPP_VERIFY_TOKEN.",
      querystring: Handshake,
      response: { 200: Type.String(), ...errors(403, 422) },
    },
    handler: async (request, reply) => {
      if (!verifyToken) return reply.callNotFound();
      const query = request.query;
      const token = query['hub.verify_token'];
      if (query['hub.mode'] !== 'subscribe' || token === undefined || !safeEqual(token, verifyToken)) {
        throw forbidden('Verification token mismatch');
      }
      return reply.type('text/plain; charset=utf-8').send(query['hub.challenge'] ?? '');
    },
  });

  app.post('/whatsapp/webhook', {
    ...offOptions,
    schema: {
      hide: off,
      tags: ['Channels'],
      summary: 'WhatsApp Webhook',
      description:
        "Message webhooks signed with X-Hub-Signature-256 (WHATSAPP_APP_SECRET). A text `/link` asks for a link code (answered with it), `/link CODE` links the account of that code to the verified sender; a text `/claim CODE` or `claim CODE` redeems for the sender's number (E.164), or without one for the identity that has the sender's business-scoped user id (BSUID) as external id or alias, and is answered through the Graph API. A message that carries both the number and the BSUID adds the BSUID as an alias of the identities linked by that number (and verifies them, verified_via platform); system messages user_changed_number and user_changed_user_id re-key the identity. Everything else is acknowledged and ignored.",
      response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors(401) },
    },
    handler: async (request, reply) => {
      if (!appSecret) return reply.callNotFound();
      const rawBody = rawBodyOf(request.body);
      const signature = request.headers['x-hub-signature-256'];
      if (!verifyMetaSignature(appSecret, Array.isArray(signature) ? signature[0] : signature, rawBody)) {
        throw unauthorized('Invalid webhook signature');
      }
      let payload: unknown;
      try {
        payload = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return { ok: true };
      }
      // What the signed message vouches for first: a user id that goes with a phone number becomes
      // an alias (so that a later claim from the user id alone is found), identifiers that changed
      // are re-keyed. Never a reason to refuse the webhook: Meta would redeliver it.
      const notices = platformNoticesOf(payload);
      const actor = webhookActor('whatsapp');
      try {
        for (const change of notices.changes) {
          await app.services.platformKeys.rekey(actor, 'whatsapp', change.from, change.to);
        }
        for (const pair of notices.pairs) {
          const outcome = await app.services.platformKeys.learnUserId(actor, 'whatsapp', pair.phone, pair.userId);
          if (outcome.conflicts > 0)
            request.log.warn({ conflicts: outcome.conflicts }, 'whatsapp user id linked elsewhere');
        }
      } catch (error) {
        request.log.warn({ err: error }, 'could not record what the WhatsApp webhook vouched for');
      }
      // One after the other, so that two messages of one sender never race for one code.
      for (const message of textMessagesOf(payload)) {
        await handleWhatsAppText(message, {
          claims: app.services.claims,
          linkRequests: app.services.linkRequests,
          log: request.log,
          settings: { accessToken, apiBase },
          chatUpdates: app.services.chatUpdates,
        });
      }
      return { ok: true };
    },
  });
}
