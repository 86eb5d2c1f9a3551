/** `K7MQ2X` → `K7M 2XQ`: two groups of three are easier to read aloud over the phone. */
export function groupCode(code: string): string {
  return code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** 754 000 ms → `12:34`. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, '0')}`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function customerLabel(customer: { name: string | null; email: string }): string {
  return customer.name?.trim() ? customer.name : customer.email;
}
