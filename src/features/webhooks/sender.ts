import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { signedHeaders } from './signing.js';
import { hostOf, isPublicAddress, parseWebhookUrl, type Resolver, safeLookup, UnsafeUrlError } from './url-safety.js';

/** How much of a receiver's answer is read; the rest is dropped with the connection. */
const MAX_RESPONSE_BYTES = 4_096;
const USER_AGENT = 'identity-service-webhooks/1';

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  resolve: Resolver;
}

export interface Delivery {
  url: string;
  secret: string;
  eventId: string;
  payload: string;
  timestampSeconds: number;
}

/** What one attempt came to: the receiver's status, or why there was none. */
export interface SendResult {
  statusCode: number | null;
  error: string | null;
}

export const isSuccess = (result: SendResult) =>
  result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;

/**
 * POSTs one signed event. Never throws: every failure is a result. Redirects are not followed
 * (a 3xx is a failed attempt), at most MAX_RESPONSE_BYTES of the answer are read, and the whole
 * exchange is cut off after `timeoutMs`, so that a receiver that hangs holds only its own slot.
 */
export function sendWebhook(delivery: Delivery, options: SendOptions): Promise<SendResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let url: URL;
    try {
      url = parseWebhookUrl(delivery.url);
      const host = hostOf(url);
      // A literal address never reaches the lookup: check it here.
      if (isIP(host) && !options.allowPrivate && !isPublicAddress(host)) {
        throw new UnsafeUrlError(`${host} is a loopback, private or link-local address`);
      }
    } catch (error) {
      resolve({ statusCode: null, error: (error as Error).message });
      return;
    }
    const body = Buffer.from(delivery.payload, 'utf8');
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent: false,
      lookup: safeLookup(options) as never,
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        'user-agent': USER_AGENT,
        ...signedHeaders(delivery.secret, delivery.eventId, delivery.timestampSeconds, delivery.payload),
      },
    });
    const timer = setTimeout(() => {
      finish({ statusCode: null, error: `no answer within ${options.timeoutMs} ms` });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error) => {
      const reason = error instanceof UnsafeUrlError ? error.message : `${error.message}`;
      finish({ statusCode: null, error: reason });
    });
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? null;
      let read = 0;
      const done = () => {
        finish({ statusCode, error: null });
        response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_RESPONSE_BYTES) done();
      });
      response.on('end', done);
      response.on('error', done);
      response.on('close', done);
    });
    request.end(body);
  });
}
