import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINGER_TOTAL_MS } from '../../src/http/plugins/lingering-close.js';
import { ADMIN_KEY, buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';

const TWO_MB = Buffer.alloc(2 * 1024 * 1024, 'x');
const PIECE = 32 * 1024;

/**
 * One POST of `body` over a raw socket, as a plain client (Python's, curl) does it: send every
 * byte, then read the answer. Resolves with the status and body read, or the socket error (EPIPE,
 * ECONNRESET) that came instead: a server that closes while the body still arrives resets the
 * connection, and the client may never see its 413.
 */
function post(port: number, body: Buffer, chunked = false) {
  return new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
    // Half-open allowed: the server's FIN does not stop this client sending its body, as it does not stop curl's.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = Buffer.alloc(0);
    let error: string | undefined;
    let answered = false;
    const finish = () => {
      const text = answer.toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1];
      resolve(error ? { error } : { status: status ? Number(status) : undefined, body: text.split('\r\n\r\n')[1] });
    };
    socket.on('data', (chunk) => {
      answer = Buffer.concat([answer, chunk]);
      const text = answer.toString('utf8');
      const at = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      answered = at >= 0 && length !== undefined && answer.length >= at + 4 + Number(length);
      // The whole answer is in, and the whole body sent: this client is done with the connection.
      if (answered && pieces.length === 0) socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', finish);
    const head = [
      'POST /v1/customers HTTP/1.1',
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `X-Api-Key: ${ADMIN_KEY}`,
      chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`,
    ].join('\r\n');
    // The body in pieces with a pause between them, as it arrives from a network: the server
    // answers while it is still coming.
    const pieces: (string | Buffer)[] = [`${head}\r\n\r\n`];
    for (let at = 0; at < body.length; at += PIECE) {
      const piece = body.subarray(at, at + PIECE);
      if (chunked) pieces.push(`${piece.length.toString(16)}\r\n`, piece, '\r\n');
      else pieces.push(piece);
    }
    if (chunked) pieces.push('0\r\n\r\n');
    const next = () => {
      const piece = pieces.shift();
      if (socket.destroyed) return;
      if (piece === undefined) return void (answered && socket.end());
      socket.write(piece, () => setTimeout(next, 1));
    };
    next();
  });
}

/** A raw socket that sends `head` and then up to `bodyBytes`; resolves with what the server said, how much was sent, and when it closed. */
function rawUntilClosed(port: number, head: string, bodyBytes: number) {
  return new Promise<{ answer: string; sent: number; ms: number }>((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    // The reset that ends it is expected here.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ answer, sent, ms: Date.now() - started }));
    socket.write(head);
    const piece = Buffer.alloc(64 * 1024, 'y');
    let sent = 0;
    const pump = () => {
      while (sent < bodyBytes && !socket.destroyed) {
        sent += piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe.each(DIALECTS)('oversized bodies over a real socket on $name', (dialect) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(() => t.close());

  it('answers every 2 MB POST with a 413 the client reads, never a reset or a broken pipe', async () => {
    const outcomes = [];
    for (let i = 0; i < 40; i++) outcomes.push(await post(port, TWO_MB));
    const failures = outcomes.filter((o) => o.status !== 413);
    expect(failures).toEqual([]);
    for (const o of outcomes) expect(JSON.parse(o.body ?? '')).toEqual({ detail: 'Request body too large' });
  }, 60_000);

  it('reads a 413 for a body sent without Content-Length (chunked) too', async () => {
    for (let i = 0; i < 5; i++) {
      const outcome = await post(port, TWO_MB, true);
      expect(outcome).toMatchObject({ status: 413 });
    }
  }, 30_000);

  it('stops reading a body far over the bound and closes the connection', async () => {
    // Declares 1 GiB and keeps sending: the 413 comes first, then the server stops listening.
    const head = `POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Api-Key: ${ADMIN_KEY}\r\nContent-Length: ${2 ** 30}\r\n\r\n`;
    const outcome = await rawUntilClosed(port, head, 2 ** 30);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 /);
    // Cut off after LINGER_MAX_BYTES (4 MiB), give or take what the kernels' buffers hold.
    expect(outcome.sent).toBeLessThan(64 * 2 ** 20);
    expect(outcome.ms).toBeLessThan(LINGER_TOTAL_MS + 5_000);
  }, 30_000);

  it('keeps serving after many oversized bodies', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(200);
  });
});
