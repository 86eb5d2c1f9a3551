/**
 * One message for the next page, kept in memory only: after an erasure the customer's page is
 * gone, and the list it leads to says what happened (never in the address, where it would stay).
 */
let pending: string | null = null;

export function setFlash(text: string): void {
  pending = text;
}

/** The message, once: a reload or a later visit shows nothing. */
export function takeFlash(): string | null {
  const text = pending;
  pending = null;
  return text;
}
