/** Channels the API normalizes specially (CONTRACT.md); any other lowercase name works too. */
export const KNOWN_CHANNELS = ['telegram', 'whatsapp', 'slack', 'discord', 'sms', 'phone', 'email'];

export function ChannelOptions({ id }: { id: string }) {
  return (
    <datalist id={id}>
      {KNOWN_CHANNELS.map((channel) => (
        <option key={channel} value={channel} />
      ))}
    </datalist>
  );
}

export function externalIdHint(channel: string): string {
  switch (channel.trim().toLowerCase()) {
    case 'telegram':
      return 'The numeric Telegram user id, e.g. 12345 (group chats are negative).';
    case 'whatsapp':
    case 'sms':
    case 'phone':
      return 'A phone number with its country code, e.g. +1 415 555 2671.';
    case 'email':
      return 'An email address.';
    case 'slack':
      return 'The Slack member id, e.g. U024BE7LH.';
    case 'discord':
      return 'The Discord user id, from Developer Mode → Copy User ID, e.g. 80351110224678912.';
    default:
      return "The person's id on that channel.";
  }
}
