import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { pgModule } from './pg-module.js';

/** How the LISTEN connection is doing, for /readyz and /metrics. */
export interface ListenerStatus {
  /** LISTEN is running on a connection whose last round trip (if any since) came back in time. */
  connected: boolean;
  /** Connections lost (an error, an end, or a round trip that did not come back) since start. */
  losses: number;
  roundTrips: { ok: number; failed: number };
  /** Seconds the last successful round trip took. */
  lastRoundTripSeconds: number | undefined;
}

export interface Listener {
  /** Settles once the first connection attempt has succeeded or failed (it keeps retrying after). */
  readonly ready: Promise<void>;
  status(): ListenerStatus;
  close(): Promise<void>;
}

export interface ListenOptions {
  url: string;
  channel: string;
  /**
   * A NOTIFY to a channel of this listener's own, sent on its connection every `pingIntervalMs`,
   * must come back within `pingTimeoutMs`, else the connection is taken for dead (an idle timeout in
   * a NAT or a proxy drops it without a word) and replaced.
   */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** TCP keep-alive's first probe after this much idle time. */
  keepAliveMs: number;
  onNotification: (payload: string) => void;
  /** LISTEN runs (again): notifications may have been missed until now. */
  onReconnect: () => void;
  /** The connection is gone: until `onReconnect`, notifications are missed. */
  onLost: (reason: string) => void;
  onError: (error: Error) => void;
}

/**
 * LISTENs on one channel on a connection of its own, and reconnects when PostgreSQL goes away or
 * the connection dies silently. Until LISTEN runs, notifications are missed: on the first
 * connection (the app may already have cached something read before it) and after every
 * reconnection. So `onReconnect` runs each time LISTEN starts, and `onLost` each time it stops,
 * and both let caches start over. Nothing thrown by a callback escapes into pg's event handlers.
 */
export function listen(options: ListenOptions): Listener {
  /** The connection LISTEN runs on, and how to stop its timers. */
  let current: { client: pg.Client; stop: () => void } | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let attempts = 0;
  let settleReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    settleReady = resolve;
  });
  const status: ListenerStatus = {
    connected: false,
    losses: 0,
    roundTrips: { ok: 0, failed: 0 },
    lastRoundTripSeconds: undefined,
  };
  const pingChannel = `${options.channel}_ping_${randomBytes(8).toString('hex')}`;

  const safely = (what: () => void) => {
    try {
      what();
    } catch (error) {
      options.onError(error as Error);
    }
  };

  const schedule = () => {
    if (closed || timer) return;
    const delay = Math.min(5_000, 200 * 2 ** attempts++);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
  };

  async function connect() {
    const c = new (pgModule().Client)({
      connectionString: options.url,
      connectionTimeoutMillis: 5_000,
      // LISTEN itself must not wait forever on a connection that died before it answered.
      query_timeout: Math.max(5_000, options.pingTimeoutMs),
      keepAlive: true,
      keepAliveInitialDelayMillis: options.keepAliveMs,
    });
    let ping: { payload: string; sentAt: number; deadline: NodeJS.Timeout } | undefined;
    let pinger: NodeJS.Timeout | undefined;
    let gone = false;

    const stop = () => {
      gone = true;
      if (pinger) clearInterval(pinger);
      if (ping) clearTimeout(ping.deadline);
    };
    const lost = (reason: string) => {
      if (gone) return;
      stop();
      const wasListening = current?.client === c;
      if (wasListening) {
        current = undefined;
        status.connected = false;
        status.losses++;
      }
      // A dead peer never answers end()'s goodbye: drop the socket itself.
      c.connection.stream.destroy();
      c.end().catch(() => undefined);
      if (wasListening && !closed) safely(() => options.onLost(reason));
      schedule();
    };

    const sendPing = () => {
      if (ping || gone) return;
      const payload = randomBytes(8).toString('hex');
      const deadline = setTimeout(() => {
        status.roundTrips.failed++;
        lost('the LISTEN connection did not answer its own NOTIFY in time');
      }, options.pingTimeoutMs);
      deadline.unref();
      ping = { payload, sentAt: performance.now(), deadline };
      // An error here is the connection's own; its 'error' event tells.
      c.query('SELECT pg_notify($1, $2)', [pingChannel, payload]).catch(() => undefined);
    };

    c.on('notification', (message) => {
      if (message.channel === pingChannel) {
        if (ping && message.payload === ping.payload) {
          clearTimeout(ping.deadline);
          status.roundTrips.ok++;
          status.lastRoundTripSeconds = (performance.now() - ping.sentAt) / 1000;
          ping = undefined;
        }
        return;
      }
      const payload = message.payload;
      if (message.channel === options.channel && payload !== undefined) safely(() => options.onNotification(payload));
    });
    c.on('error', (error) => {
      options.onError(error);
      lost(error.message);
    });
    // A connection closed without an error (the server shut down cleanly) is lost all the same.
    c.on('end', () => {
      if (!closed) lost('the LISTEN connection was closed');
    });
    try {
      await c.connect();
      const quote = pgModule().escapeIdentifier;
      await c.query(`LISTEN ${quote(options.channel)}; LISTEN ${quote(pingChannel)}`);
      if (closed || gone) {
        await c.end();
        return;
      }
      attempts = 0;
      current = { client: c, stop };
      status.connected = true;
      pinger = setInterval(sendPing, options.pingIntervalMs);
      pinger.unref();
      safely(options.onReconnect);
    } catch (error) {
      if (!gone) {
        options.onError(error as Error);
        gone = true;
        c.connection.stream.destroy();
        c.end().catch(() => undefined);
        schedule();
      }
    } finally {
      settleReady();
    }
  }

  void connect();
  return {
    ready,
    status: () => ({ ...status, roundTrips: { ...status.roundTrips } }),
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const listening = current;
      current = undefined;
      status.connected = false;
      if (listening) {
        listening.stop();
        await listening.client.end().catch(() => undefined);
      }
    },
  };
}
