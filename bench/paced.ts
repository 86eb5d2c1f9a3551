import { connect, type Socket } from 'node:net';

/**
 * A load generator at a steady rate for one scenario: requests fall due every 1 / rate s (looked
 * at every millisecond, so they go out in small batches) and are sent on whichever of the
 * keep-alive connections is free. Each one is timed from when it was sent to its whole answer:
 * timed from when it fell due, it would also count this process's own lateness (a busy event
 * loop fires a 1 ms timer a few ms late), which measured p99s of 10 ms that were not the server's.
 *
 * autocannon's rate limit cannot do this: it lets each connection send its whole second's quota
 * at once and then wait for the next second, which is a burst per second, not a rate.
 */
export interface PacedOptions {
  url: string;
  connections: number;
  /** Requests per second over all connections. */
  rate: number;
  seconds: number;
  /** The path (and query) of the next request. */
  nextPath: () => string;
  headers: Record<string, string>;
}

export interface PacedResult {
  /** Seconds from the first request due to the last answer. */
  seconds: number;
  /** Milliseconds from each request's sending to its whole answer. */
  times: number[];
  statuses: Record<string, number>;
  /** Connection errors, and requests still unanswered 10 s after the last one was due. */
  errors: number;
}

interface Connection {
  socket: Socket;
  buffer: Buffer;
  /** When the request in flight was sent (performance.now()); undefined when the connection is free. */
  sentAt: number | undefined;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Length of the first whole HTTP response in `buffer` and its status, or undefined if it is not
 * all there yet. Bodies are read by Content-Length, which every answer of the service has (it
 * never sends chunked bodies).
 */
export function firstResponse(buffer: Buffer): { length: number; status: number } | undefined {
  const end = buffer.indexOf(HEADER_END);
  if (end < 0) return undefined;
  const head = buffer.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const length = end + HEADER_END.length + (match ? Number(match[1]) : 0);
  return buffer.length >= length ? { length, status } : undefined;
}

export async function pacedRun(options: PacedOptions): Promise<PacedResult> {
  const { hostname, port } = new URL(options.url);
  const headers = Object.entries({ host: `${hostname}:${port}`, ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const free: Connection[] = [];
  // Requests due and not yet sent, waiting for a free connection.
  let waiting = 0;
  let lastAnswer = 0;

  const dispatch = () => {
    for (; waiting > 0 && free.length > 0; waiting--) {
      // The longest free first, so that the load spreads over every connection, as 32 clients' would.
      const connection = free.shift() as Connection;
      connection.sentAt = performance.now();
      connection.socket.write(`GET ${options.nextPath()} HTTP/1.1\r\n${headers}\r\n`);
    }
  };

  const connections = await Promise.all(
    Array.from({ length: options.connections }, async () => {
      const socket = connect(Number(port), hostname);
      socket.setNoDelay(true);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      const connection: Connection = { socket, buffer: Buffer.alloc(0), sentAt: undefined };
      socket.on('data', (chunk: Buffer) => {
        connection.buffer = connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
        for (let response = firstResponse(connection.buffer); response; response = firstResponse(connection.buffer)) {
          connection.buffer = connection.buffer.subarray(response.length);
          lastAnswer = performance.now();
          if (connection.sentAt !== undefined) times.push(lastAnswer - connection.sentAt);
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          connection.sentAt = undefined;
          free.push(connection);
        }
        dispatch();
      });
      socket.on('error', () => {
        errors++;
      });
      free.push(connection);
      return connection;
    }),
  );

  const start = performance.now();
  const interval = 1000 / options.rate;
  const total = Math.round(options.rate * options.seconds);
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      for (; scheduled < total && start + scheduled * interval <= now; scheduled++) waiting++;
      dispatch();
      if (scheduled === total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  // The last answers; whatever is still out after 10 s counts as an error.
  const deadline = performance.now() + 10_000;
  while (times.length + errors < total && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  errors += Math.max(0, total - times.length - errors);
  for (const connection of connections) connection.socket.destroy();
  return { seconds: Math.max(lastAnswer - start, options.seconds * 1000) / 1000, times, statuses, errors };
}
