import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/**
 * A stand-in for a chat platform's API (Telegram's Bot API, Meta's Graph API) on 127.0.0.1 and a
 * random port. It records every call and answers as the real API does on success.
 */
export class FakePlatform {
  readonly calls: RecordedCall[] = [];
  private server: Server | undefined;
  baseUrl = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        const path = request.url ?? '';
        this.calls.push({ method: request.method ?? '', path, headers: request.headers, body });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(answer(path, body)));
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

function answer(path: string, body: Record<string, unknown>) {
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
