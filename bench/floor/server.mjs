// The floor for the bench's --compare-node: Node's own HTTP server, doing nothing but answer every
// request with a lookup's body (a seeded identity's, as a cached lookup sends it: 265 bytes) and the headers
// Node adds itself. No framework, no key check, no log line, no metrics, no security headers: what
// the same exchange costs this machine before the service does anything. PORT and HOST as ours.
import { createServer } from 'node:http';

const body = JSON.stringify({
  channel: 'telegram',
  customer_email: 'customer12345@bench.example',
  customer_id: '019ae3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b',
  display_name: 'tg 12345',
  external_id: '100012345',
  identity_id: '019ae3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6c',
  role_override: null,
  verified: false,
});
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };

const server = createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
