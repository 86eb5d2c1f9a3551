import { NotConfiguredError, postJson } from './platform-call.js';

export interface WhatsAppSettings {
  accessToken: string | undefined;
  apiBase: string;
}

/** Whom to answer: the phone number when we have it, else the business-scoped user id. */
export type WhatsAppRecipient = { to: string } | { recipient: string };

/** Meta's error body: `{"error": {"message": "...", "type": "OAuthException", "code": 131047, ...}}`. */
function describe(body: unknown): string {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return '';
  const { message, code } = error as { message?: unknown; code?: unknown };
  return `${typeof message === 'string' ? message.slice(0, 200) : ''}${typeof code === 'number' ? ` (code ${code})` : ''}`;
}

/**
 * Sends a text through the Cloud API (`POST {apiBase}/{phone_number_id}/messages`, Bearer token).
 * A plain fetch: the request is one JSON body, and Meta's SDKs would add nothing but weight.
 * `replyTo` quotes the message answered; a message of our own (a chat notice) quotes none.
 */
export async function sendWhatsAppText(
  settings: WhatsAppSettings,
  input: { phoneNumberId: string; replyTo?: string | undefined; text: string } & { recipient: WhatsAppRecipient },
): Promise<void> {
  if (!settings.accessToken) throw new NotConfiguredError('WHATSAPP_ACCESS_TOKEN');
  await postJson(`${settings.apiBase}/${encodeURIComponent(input.phoneNumberId)}/messages`, {
    what: 'WhatsApp messages',
    headers: { authorization: `Bearer ${settings.accessToken}` },
    body: {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...input.recipient,
      ...(input.replyTo ? { context: { message_id: input.replyTo } } : {}),
      type: 'text',
      text: { preview_url: false, body: input.text },
    },
    describe,
  });
}
