import type { ClaimsService } from '../claims/claims.service.js';
import { toBsuid, toE164 } from '../identities/identities.js';
import { parseWhatsAppText } from './claim-command.js';
import { replies } from './claim-replies.js';
import { type RedeemLogger, redeemFromChat } from './redeem-from-chat.js';
import { sendWhatsAppText, type WhatsAppRecipient, type WhatsAppSettings } from './whatsapp-api.js';
import type { IncomingText } from './whatsapp-webhook.js';

/**
 * Answers one text message: a claim from a phone number is redeemed for that number (E.164); one
 * without a number, for the identity that has the sender's business-scoped user id (BSUID) as its
 * external id or an alias; one with neither changes nothing and is told why. Anything else is ignored.
 */
export async function handleWhatsAppText(
  message: IncomingText,
  deps: { claims: ClaimsService; log: RedeemLogger; settings: WhatsAppSettings },
): Promise<void> {
  const command = parseWhatsAppText(message.body);
  if (!command) return;
  const phone = message.from ? toE164(message.from) : undefined;
  const userId = message.fromUserId ? toBsuid(message.fromUserId) : undefined;
  const externalId = phone ?? userId;
  let recipient: WhatsAppRecipient;
  if (message.from) recipient = { to: message.from };
  else if (message.fromUserId) recipient = { recipient: message.fromUserId };
  else return;
  let text: string;
  if (!externalId) text = replies.noPhoneNumber();
  else if (command.kind === 'usage') text = replies.usage('claim');
  else text = await redeemFromChat(deps.claims, deps.log, { channel: 'whatsapp', externalId, code: command.code });
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
