import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The status the fake answered with. */
  status: number;
}

/** An answer other than the platform's success: a status and a JSON body. */
export interface FakeAnswer {
  status: number;
  body: unknown;
}

/**
 * A stand-in for a chat platform's API (Telegram's Bot API, Meta's Graph API, Slack's Web API,
 * Discord's REST API) on 127.0.0.1 and a random port. It records every call and answers as the real API does on
 * success, unless `respond` returns another answer for a call.
 */
export class FakePlatform {
  readonly calls: RecordedCall[] = [];
  private server: Server | undefined;
  baseUrl = '';
  respond: ((call: RecordedCall) => FakeAnswer | undefined) | undefined;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        const path = request.url ?? '';
        const call: RecordedCall = { method: request.method ?? '', path, headers: request.headers, body, status: 200 };
        const special = this.respond?.(call);
        call.status = special?.status ?? 200;
        this.calls.push(call);
        response.statusCode = call.status;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(special ? special.body : answer(call.method, path, body)));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  /** The calls made since the last `take`. */
  take(): RecordedCall[] {
    return this.calls.splice(0, this.calls.length);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

function answer(method: string, path: string, body: Record<string, unknown>) {
  const discord = discordAnswer(method, path, body);
  if (discord !== undefined) return discord;
  if (path.endsWith('/chat.postMessage')) {
    // Slack (api.slack.com/methods/chat.postMessage): a user id as channel posts to the app's DM with them.
    return { ok: true, channel: 'D0DMCHANNEL', ts: '1733000000.000100', message: { text: body.text, type: 'message' } };
  }
  if (path.endsWith('/sendMessage')) {
    return {
      ok: true,
      result: { message_id: 99, date: 1_700_000_000, chat: { id: body.chat_id, type: 'private' }, text: body.text },
    };
  }
  return {
    messaging_product: 'whatsapp',
    contacts: [{ input: body.to, wa_id: body.to }],
    messages: [{ id: 'wamid.X' }],
  };
}

/** Discord's REST API (discord.com/developers/docs/resources): the calls the service makes. */
function discordAnswer(method: string, path: string, body: Record<string, unknown>): unknown {
  if (method === 'POST' && path.endsWith('/users/@me/channels')) {
    return { id: `7${String(body.recipient_id).slice(1)}`, type: 1, recipients: [{ id: body.recipient_id }] };
  }
  const message = /\/channels\/(\d+)\/messages$/.exec(path);
  if (method === 'POST' && message) {
    return { id: '1100000000000000001', channel_id: message[1], content: body.content };
  }
  if (method === 'PATCH' && /\/webhooks\/[^/]+\/[^/]+\/messages\/@original$/.test(path)) {
    return { id: '1100000000000000002', content: body.content, flags: 64 };
  }
  const commands = /\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path);
  if (method === 'PUT' && commands && Array.isArray(body)) {
    return body.map((command: Record<string, unknown>, i) => ({
      id: `12000000000000000${i}`,
      application_id: commands[1],
      ...(commands[2] ? { guild_id: commands[2] } : {}),
      version: '1',
      ...command,
    }));
  }
  return undefined;
}
