import { createHash, createHmac, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';

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

/** Discord's replay window, as Slack's: a signed request older (or newer) than this is refused. */
export const DISCORD_MAX_SKEW_SECONDS = 300;

/**
 * The application's Ed25519 public key (64 hex digits) as a key node:crypto verifies with. Node
 * has verified Ed25519 natively since version 12, so Discord's `discord-interactions` package
 * would bring a dependency for one call (its older versions verify in JavaScript with tweetnacl,
 * far slower), and it checks the signature only, not the timestamp's age, which we must refuse
 * anyway. The raw 32 bytes become a key through JWK (`OKP`/`Ed25519`), which names the curve,
 * rather than by gluing them behind a DER SubjectPublicKeyInfo prefix by hand.
 */
export function discordPublicKey(hex: string): KeyObject {
  const x = Buffer.from(hex, 'hex').toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * Discord's interaction signature: `X-Signature-Ed25519` (hex) is the Ed25519 signature of
 * `X-Signature-Timestamp` followed by the raw body, and the timestamp is within five minutes of
 * now. Discord sends badly signed requests on purpose, and drops an endpoint that accepts one.
 */
export function verifyDiscordSignature(input: {
  publicKey: KeyObject;
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: Buffer;
  nowSeconds: number;
}): boolean {
  const { signature, timestamp } = input;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (!/^[0-9a-fA-F]{128}$/.test(signature)) return false;
  if (Math.abs(input.nowSeconds - Number(timestamp)) > DISCORD_MAX_SKEW_SECONDS) return false;
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), input.rawBody]);
  return verify(null, signed, input.publicKey, Buffer.from(signature, 'hex'));
}
