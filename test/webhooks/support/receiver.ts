import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

export interface Received {
  /** The request's path and query, which tells subscriptions to one receiver apart. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed. */
  event: {
    id: string;
    type: string;
    created_at: string;
    data: Record<string, unknown> & { customer?: Record<string, unknown>; identity?: Record<string, unknown> };
  };
}

/** What the receiver does with a request: answer a status, or never answer (`hang`). */
export type Answer = number | 'hang';

/**
 * A webhook receiver on 127.0.0.1 that keeps every request it gets; `answer` decides each reply
 * (200 unless told otherwise).
 */
export async function startReceiver(answer: (received: Received, index: number) => Answer = () => 200) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: Received = {
        path: request.url ?? '',
        headers: request.headers,
        body,
        event: JSON.parse(body) as Received['event'],
      };
      const index = received.push(entry) - 1;
      for (const waiter of [...waiters]) {
        if (received.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      const what = answer(entry, index);
      if (what === 'hang') {
        hanging.push(response);
        return;
      }
      response.writeHead(what, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    /** Resolves once `count` requests have arrived, or rejects after `timeoutMs`. */
    waitFor(count: number, timeoutMs = 15_000): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver got ${received.length} of ${count} requests in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
