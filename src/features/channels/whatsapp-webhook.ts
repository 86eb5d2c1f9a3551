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

/** A phone number and a business-scoped user id that WhatsApp delivered together, in one signed message. */
export interface SenderPair {
  phone: string;
  userId: string;
}

/**
 * Meta's notices that a user's identifier changed (system messages, which carry no contacts):
 * `user_changed_number` (`from` the old number, `system.wa_id` the new one; since Aug 2026 also
 * `system.user_id` and `system.previous_user_id`, as a new number regenerates the BSUID) and
 * `user_changed_user_id` (`system.previous_user_id` → `system.user_id`, no phone number).
 */
export interface IdentifierChange {
  from: string;
  to: string;
}

const systemOf = (message: Record<string, unknown>) =>
  message.type === 'system' && isRecord(message.system) ? message.system : undefined;

/** The identifiers a webhook says belong together, and those it says changed. */
export function platformNoticesOf(payload: unknown): { pairs: SenderPair[]; changes: IdentifierChange[] } {
  const pairs: SenderPair[] = [];
  const changes: IdentifierChange[] = [];
  if (!isRecord(payload) || payload.object !== 'whatsapp_business_account') return { pairs, changes };
  for (const entry of asArray(payload.entry)) {
    if (!isRecord(entry)) continue;
    for (const change of asArray(entry.changes)) {
      if (!isRecord(change) || change.field !== 'messages' || !isRecord(change.value)) continue;
      for (const contact of asArray(change.value.contacts)) {
        if (!isRecord(contact)) continue;
        const phone = asString(contact.wa_id);
        const userId = asString(contact.user_id);
        if (phone && userId) pairs.push({ phone, userId });
      }
      for (const message of asArray(change.value.messages)) {
        if (!isRecord(message)) continue;
        const system = systemOf(message);
        if (!system) {
          const phone = asString(message.from);
          const userId = asString(message.from_user_id);
          if (phone && userId) pairs.push({ phone, userId });
          continue;
        }
        const previousUserId = asString(system.previous_user_id);
        const userId = asString(system.user_id);
        if (system.type === 'user_changed_number') {
          const from = asString(message.from);
          const to = asString(system.wa_id);
          if (from && to) changes.push({ from, to });
        }
        if (system.type === 'user_changed_number' || system.type === 'user_changed_user_id') {
          if (previousUserId && userId) changes.push({ from: previousUserId, to: userId });
        }
      }
    }
  }
  return { pairs, changes };
}
