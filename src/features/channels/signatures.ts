import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two strings of any length (both are hashed to the same length first). */
export function safeEqual(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

/** Slack's replay window: a request older (or newer) than this is refused. */
export const SLACK_MAX_SKEW_SECONDS = 300;

/**
 * Slack's v0 signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed with the
 * signing secret, and a timestamp within five minutes of now.
 */
export function verifySlackSignature(input: {
  secret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: Buffer;
  nowSeconds: number;
}): boolean {
  const { signature, timestamp } = input;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(input.nowSeconds - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS) return false;
  const expected = `v0=${createHmac('sha256', input.secret)
    .update(`v0:${timestamp}:`)
    .update(input.rawBody)
    .digest('hex')}`;
  return safeEqual(signature, expected);
}

/** Meta's `X-Hub-Signature-256`: `sha256=` + hex HMAC-SHA256 of the raw body keyed with the app secret. */
export function verifyMetaSignature(secret: string, signature: string | undefined, rawBody: Buffer): boolean {
  if (!signature) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
  return safeEqual(signature.toLowerCase(), expected);
}
