import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import { postgres, postgresUrl } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

const headers = { 'x-api-key': ADMIN_KEY };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, tries = 200) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

/**
 * A TCP proxy in front of PostgreSQL that can go silent on the connections that LISTEN, as an
 * idle timeout in a NAT or a proxy does: nothing forwarded either way, and nothing closed.
 */
async function silencingProxy(target: { host: string; port: number }) {
  let silent = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target.port, target.host);
    let listens = false;
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('LISTEN "')) listens = true;
      if (!(silent && listens)) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!(silent && listens)) client.write(chunk);
    });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth).on('error', closeBoth);
    upstream.on('close', closeBoth).on('error', closeBoth);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    silence: (on: boolean) => {
      silent = on;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** The value of one sample in Prometheus' text format, or undefined when it is not there. */
async function metric(app: FastifyInstance, sample: string): Promise<number | undefined> {
  const text = (await app.inject({ url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe.runIf(postgresUrl)('a LISTEN connection that dies silently on PostgreSQL (issue 18, item 6)', () => {
  let a: FastifyInstance;
  let b: FastifyInstance;
  let proxy: Awaited<ReturnType<typeof silencingProxy>>;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const database = await postgres.create();
    dispose = database.dispose;
    const direct = new URL(database.url);
    proxy = await silencingProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const env = { BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' };
    b = await buildApp(loadConfig({ ...env, DATABASE_URL: database.url }), { logger: false });
    a = await buildApp(
      loadConfig({
        ...env,
        DATABASE_URL: proxied.toString(),
        LISTEN_PING_INTERVAL_SECONDS: '0.2',
        LISTEN_PING_TIMEOUT_SECONDS: '0.5',
        // A remembered miss outlives the test: only a notice can make A see a new link.
        LOOKUP_CACHE_MISS_TTL_SECONDS: '600',
      }),
      { logger: false },
    );
    await Promise.all([a.ready(), b.ready()]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await proxy?.close();
    await dispose?.();
  });

  it('is found dead by its round trip, drops the caches, says so in /readyz and /metrics, and comes back', async () => {
    const url = '/v1/customers/lookup/identity?channel=telegram&external_id=180006';
    const customer = await createCustomer(b);
    const identity = await createIdentity(b, customer.id, { channel: 'telegram', external_id: '180006' });
    expect((await a.inject({ url, headers })).statusCode).toBe(200);
    expect((await a.inject({ url: '/readyz' })).json().change_listener).toBe('connected');
    expect(
      await eventually(async () => ((await metric(a, 'change_listener_round_trips_total{result="ok"}')) ?? 0) > 0),
    ).toBe(true);

    proxy.silence(true);
    const deleted = await b.inject({
      method: 'DELETE',
      url: `/v1/customers/${customer.id}/identities/${identity.id}`,
      headers,
    });
    expect(deleted.statusCode).toBe(204);

    // The notice of the deletion never reaches A; its round trip fails and A stops trusting its cache.
    expect(await eventually(async () => (await a.inject({ url: '/readyz' })).statusCode === 503)).toBe(true);
    const unready = await a.inject({ url: '/readyz' });
    expect(unready.headers['retry-after']).toBeTruthy();
    expect(unready.json()).toEqual({ detail: expect.stringContaining('LISTEN') });
    expect(await metric(a, 'change_listener_connected')).toBe(0);
    expect(await metric(a, 'change_listener_round_trips_total{result="failed"}')).toBeGreaterThanOrEqual(1);
    expect(await metric(a, 'change_listener_losses_total')).toBeGreaterThanOrEqual(1);
    expect((await a.inject({ url, headers })).statusCode).toBe(404);

    proxy.silence(false);
    expect(await eventually(async () => (await a.inject({ url: '/readyz' })).statusCode === 200)).toBe(true);
    expect(await metric(a, 'change_listener_connected')).toBe(1);

    // Following again: B's next change reaches A's cache by NOTIFY.
    expect((await a.inject({ url, headers })).statusCode).toBe(404);
    await createIdentity(b, customer.id, { channel: 'telegram', external_id: '180006', display_name: 'Again' });
    expect(await eventually(async () => (await a.inject({ url, headers })).statusCode === 200)).toBe(true);
  }, 60_000);
});
