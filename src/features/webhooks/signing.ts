import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks' signature (https://www.standardwebhooks.com): `v1,` and the base64 of
 * HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the base64-decoded part of the secret
 * after `whsec_`.
 */
export function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of a signed delivery. */
export function signedHeaders(secret: string, id: string, timestampSeconds: number, body: string) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatureOf(secret, id, timestampSeconds, body),
  };
}
