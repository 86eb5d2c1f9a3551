export interface WhatsAppSettings {
  accessToken: string | undefined;
  apiBase: string;
}

/** Whom to answer: the phone number when we have it, else the business-scoped user id. */
export type WhatsAppRecipient = { to: string } | { recipient: string };

const TIMEOUT_MS = 10_000;

/**
 * Sends a text through the Cloud API (`POST {apiBase}/{phone_number_id}/messages`, Bearer token).
 * A plain fetch: the request is one JSON body, and Meta's SDKs would add nothing but weight.
 */
export async function sendWhatsAppText(
  settings: WhatsAppSettings,
  input: { phoneNumberId: string; replyTo: string; text: string } & { recipient: WhatsAppRecipient },
): Promise<void> {
  if (!settings.accessToken) throw new Error('WHATSAPP_ACCESS_TOKEN is not set, so replies cannot be sent');
  const response = await fetch(`${settings.apiBase}/${encodeURIComponent(input.phoneNumberId)}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${settings.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...input.recipient,
      ...(input.replyTo ? { context: { message_id: input.replyTo } } : {}),
      type: 'text',
      text: { preview_url: false, body: input.text },
    }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).slice(0, 500);
    throw new Error(`WhatsApp API answered ${response.status}: ${detail}`);
  }
}
