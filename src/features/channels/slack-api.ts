import { NotConfiguredError, PlatformCallError, postJson } from './platform-call.js';

export interface SlackApiSettings {
  /** `SLACK_BOT_TOKEN` (xoxb-…), with the `chat:write` scope. */
  botToken: string | undefined;
  /** `SLACK_API_BASE`, https://slack.com/api by default. */
  apiBase: string;
}

/** Slack's answer: `{"ok": false, "error": "channel_not_found"}`, mostly with status 200. */
const errorOf = (body: unknown) =>
  typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
    ? String((body as { error: string }).error).slice(0, 100)
    : '';

/** Slack's errors that pass (api.slack.com/methods/chat.postMessage#errors), as the status they mean. */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
const statusOf = (error: string) => (error === 'ratelimited' ? 429 : TRANSIENT.has(error) ? 503 : 400);

/**
 * Posts a text with chat.postMessage. A user id as the channel sends it to the app's direct
 * messages with that person (the app's Messages tab), wherever they typed the command.
 */
export async function postSlackMessage(settings: SlackApiSettings, input: { userId: string; text: string }) {
  if (!settings.botToken) throw new NotConfiguredError('SLACK_BOT_TOKEN');
  const answer = await postJson(`${settings.apiBase}/chat.postMessage`, {
    what: 'Slack chat.postMessage',
    headers: { authorization: `Bearer ${settings.botToken}` },
    body: { channel: input.userId, text: input.text, unfurl_links: false, unfurl_media: false },
    describe: errorOf,
  });
  if (typeof answer !== 'object' || answer === null || (answer as { ok?: unknown }).ok !== true) {
    // Slack answers most failures with 200 and ok: false; `ratelimited` is its 429 in words.
    const error = errorOf(answer);
    throw new PlatformCallError(`Slack chat.postMessage failed: ${error || 'no ok'}`, statusOf(error), false);
  }
}
