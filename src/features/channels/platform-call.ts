/** Each call to a chat platform is cut off after this long. */
export const PLATFORM_TIMEOUT_MS = 10_000;

/**
 * A call to a chat platform that did not succeed. `status` is the HTTP status when the platform
 * answered; `timedOut` when it did not answer in time, so that nobody knows whether it acted.
 * The message names the call (`what`), never its URL: Telegram's token is part of its URLs.
 */
export class PlatformCallError extends Error {
  override name = 'PlatformCallError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

/** A message that cannot be sent at all: the platform's token is not configured. */
export class NotConfiguredError extends Error {
  override name = 'NotConfiguredError';
  constructor(setting: string) {
    super(`${setting} is not set, so messages cannot be sent`);
  }
}

/**
 * Why fetch failed, in words that hold no URL: undici's "fetch failed" carries the reason in its
 * cause (`connect ECONNREFUSED …`), while its own message may quote the URL, token and all.
 */
function whyUnanswered(error: unknown): { reason: string; timedOut: boolean } {
  if (!(error instanceof Error)) return { reason: 'unknown error', timedOut: false };
  if (error.name === 'TimeoutError')
    return { reason: `no answer within ${PLATFORM_TIMEOUT_MS / 1000} s`, timedOut: true };
  if (error.cause instanceof Error) return { reason: error.cause.message, timedOut: false };
  return { reason: error.name, timedOut: false };
}

/**
 * POSTs a JSON body and returns the answer's JSON (undefined when it is not JSON). Throws a
 * PlatformCallError for no answer or a status other than 2xx, with `describe` turning the error
 * body into words (the platform's own message, which names no person).
 */
export async function postJson(
  url: string,
  init: { what: string; headers?: Record<string, string>; body: unknown; describe?: (body: unknown) => string },
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: JSON.stringify(init.body),
      signal: AbortSignal.timeout(PLATFORM_TIMEOUT_MS),
    });
  } catch (error) {
    const why = whyUnanswered(error);
    throw new PlatformCallError(`${init.what} got no answer: ${why.reason}`, undefined, why.timedOut);
  }
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const detail = init.describe?.(body) ?? '';
    throw new PlatformCallError(
      `${init.what} answered ${response.status}${detail ? `: ${detail}` : ''}`,
      response.status,
      false,
    );
  }
  return body;
}
