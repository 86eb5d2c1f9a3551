import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { firstResponse, pacedRun } from '../../bench/paced.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A server that answers after `delayMs`, and counts the requests and the paths it saw. */
async function listen(delayMs: number) {
  const seen = { requests: 0, paths: new Set<string>(), keys: new Set<string>() };
  server = createServer((request, response) => {
    seen.requests++;
    seen.paths.add(request.url ?? '');
    seen.keys.add(String(request.headers['x-api-key']));
    setTimeout(() => response.end('{"ok":true}'), delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, seen };
}

describe('the paced load generator', () => {
  it('finds whole responses in a buffer, and waits for a body that is not all there', () => {
    const one = 'HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nhello';
    expect(firstResponse(Buffer.from(`${one}HTTP/1.1 200 OK`))).toEqual({ length: one.length, status: 404 });
    expect(firstResponse(Buffer.from(one.slice(0, -1)))).toBeUndefined();
    expect(firstResponse(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0'))).toBeUndefined();
  });

  it('sends the rate asked for, steadily, on its connections, and answers every request', async () => {
    const { url, seen } = await listen(0);
    let n = 0;
    const result = await pacedRun({
      url,
      connections: 4,
      rate: 400,
      seconds: 1,
      headers: { 'x-api-key': 'k' },
      nextPath: () => `/p/${n++}`,
    });
    expect(result.errors).toBe(0);
    expect(result.statuses).toEqual({ 200: 400 });
    expect(result.times).toHaveLength(400);
    expect(seen.requests).toBe(400);
    expect(seen.paths.size).toBe(400);
    expect([...seen.keys]).toEqual(['k']);
    // Steady: it took the second it was asked to (a burst would finish at once).
    expect(result.seconds).toBeGreaterThanOrEqual(0.99);
    expect(result.seconds).toBeLessThan(1.5);
  });

  it('times each request from its sending, and sends no faster than connections free up', async () => {
    // 1 connection, 20 requests due within 0.2 s, each answered after 20 ms: they wait for the
    // connection in turn, so the run takes about 0.4 s, and each one's time is its own 20 ms.
    const { url } = await listen(20);
    const result = await pacedRun({ url, connections: 1, rate: 100, seconds: 0.2, headers: {}, nextPath: () => '/' });
    expect(result.statuses).toEqual({ 200: 20 });
    expect(Math.min(...result.times)).toBeGreaterThanOrEqual(19);
    expect(Math.max(...result.times)).toBeLessThan(100);
    expect(result.seconds).toBeGreaterThan(0.38);
  });
});
