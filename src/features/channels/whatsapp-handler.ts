import type { ClaimsService } from '../claims/claims.service.js';
import { toBsuid, toE164 } from '../identities/identities.js';
import type { LinkRequestsService } from '../link-requests/link-requests.service.js';
import { answerChatCommand } from './chat-commands.js';
import { parseWhatsAppText } from './claim-command.js';
import { replies } from './claim-replies.js';
import type { RedeemLogger } from './redeem-from-chat.js';
import { handledBefore, type ReplayGuard } from './replay-guard.js';
import { sendWhatsAppText, type WhatsAppRecipient, type WhatsAppSettings } from './whatsapp-api.js';
import type { IncomingText } from './whatsapp-webhook.js';

/**
 * Answers one text message (`claim CODE`, `/link [CODE]`): a claim from a phone number is redeemed
 * for that number (E.164); one without a number, for the identity that has the sender's
 * business-scoped user id (BSUID) as its external id or an alias; one with neither changes nothing
 * and is told why. `/link` acts for the number (or else the BSUID) alike. Anything else is ignored.
 */
export async function handleWhatsAppText(
  message: IncomingText,
  deps: {
    claims: ClaimsService;
    linkRequests: LinkRequestsService;
    log: RedeemLogger;
    settings: WhatsAppSettings;
    chatUpdates: ReplayGuard;
  },
): Promise<void> {
  const command = parseWhatsAppText(message.body);
  if (!command) return;
  // Meta redelivers a webhook until it gets a 200, for days: each message is handled once.
  if (message.messageId && (await handledBefore(deps.chatUpdates, deps.log, 'whatsapp', message.messageId))) return;
  // WhatsApp writes the sender's number in international form without '+' (16505551234).
  const phone = message.from ? toE164(message.from, { bareIsInternational: true }) : undefined;
  const userId = message.fromUserId ? toBsuid(message.fromUserId) : undefined;
  const externalId = phone ?? userId;
  let recipient: WhatsAppRecipient;
  if (message.from) recipient = { to: message.from };
  else if (message.fromUserId) recipient = { recipient: message.fromUserId };
  else return;
  let text: string;
  if (!externalId) text = replies.noPhoneNumber();
  else {
    text = await answerChatCommand(deps, {
      channel: 'whatsapp',
      externalId,
      command,
      usage: 'claim',
      replyTo: { phone_number_id: message.phoneNumberId, ...recipient },
    });
  }
  try {
    await sendWhatsAppText(deps.settings, {
      phoneNumberId: message.phoneNumberId,
      replyTo: message.messageId,
      recipient,
      text,
    });
  } catch (error) {
    // The claim itself is done; Meta must still get its 200, or it redelivers the webhook.
    deps.log.warn({ err: error }, 'could not answer on WhatsApp');
  }
}
