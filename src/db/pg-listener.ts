import type pg from 'pg';
import { pgModule } from './pg-module.js';

export interface Listener {
  close(): Promise<void>;
}

/**
 * LISTENs on one channel on a connection of its own, and reconnects when PostgreSQL goes away.
 * Until LISTEN runs, notifications are missed: on the first connection (the app may already
 * have cached something read before it) and after every reconnection. So `onReconnect` runs
 * each time LISTEN starts, and lets caches start over.
 */
export function listen(options: {
  url: string;
  channel: string;
  onNotification: (payload: string) => void;
  onReconnect: () => void;
  onError: (error: Error) => void;
}): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let attempts = 0;

  const schedule = () => {
    if (closed || timer) return;
    const delay = Math.min(5_000, 200 * 2 ** attempts++);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
  };

  async function connect() {
    const c = new (pgModule().Client)({ connectionString: options.url, connectionTimeoutMillis: 5_000 });
    c.on('notification', (message) => {
      if (message.channel === options.channel && message.payload !== undefined) options.onNotification(message.payload);
    });
    const lost = () => {
      if (client === c) client = undefined;
      c.end().catch(() => undefined);
      schedule();
    };
    c.on('error', (error) => {
      options.onError(error);
      lost();
    });
    // A connection closed without an error (the server shut down cleanly) is lost all the same.
    c.on('end', () => {
      if (!closed && client === c) lost();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pgModule().escapeIdentifier(options.channel)}`);
      if (closed) {
        await c.end();
        return;
      }
      attempts = 0;
      client = c;
      options.onReconnect();
    } catch (error) {
      options.onError(error as Error);
      c.end().catch(() => undefined);
      schedule();
    }
  }

  void connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
