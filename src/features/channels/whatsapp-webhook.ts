/**
 * The parts of a WhatsApp Cloud API webhook we read. Shape (Meta's "messages" webhook):
 * `{object: 'whatsapp_business_account', entry: [{id, changes: [{field: 'messages', value: {
 * messaging_product, metadata: {display_phone_number, phone_number_id}, contacts: [{profile, wa_id,
 * user_id?}], messages: [{from?, from_user_id?, id, timestamp, type: 'text', text: {body}}],
 * statuses?: [...]}}]}]}`. Since 2026, a person with a WhatsApp username may come without `from`
 * (the phone number), only with a business-scoped user id (`from_user_id`, e.g. `US.1349…`).
 */
export interface IncomingText {
  /** The business number that received it; replies are sent from it. */
  phoneNumberId: string;
  messageId: string;
  /** The sender's number as WhatsApp gives it (digits, no +), when shared. */
  from: string | undefined;
  /** The sender's business-scoped user id, when given. */
  fromUserId: string | undefined;
  body: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Every text message in a webhook; statuses, media, reactions and other fields are left out. */
export function textMessagesOf(payload: unknown): IncomingText[] {
  if (!isRecord(payload) || payload.object !== 'whatsapp_business_account') return [];
  const found: IncomingText[] = [];
  for (const entry of asArray(payload.entry)) {
    if (!isRecord(entry)) continue;
    for (const change of asArray(entry.changes)) {
      if (!isRecord(change) || change.field !== 'messages' || !isRecord(change.value)) continue;
      const value = change.value;
      const phoneNumberId = isRecord(value.metadata) ? asString(value.metadata.phone_number_id) : undefined;
      if (!phoneNumberId) continue;
      for (const message of asArray(value.messages)) {
        if (!isRecord(message) || message.type !== 'text' || !isRecord(message.text)) continue;
        const body = asString(message.text.body);
        if (!body) continue;
        found.push({
          phoneNumberId,
          messageId: asString(message.id) ?? '',
          from: asString(message.from),
          fromUserId: asString(message.from_user_id),
          body,
        });
      }
    }
  }
  return found;
}
