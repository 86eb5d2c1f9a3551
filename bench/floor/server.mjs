// The floor for the bench's --compare-node: Node's own HTTP server, doing nothing but answer every
// request with FLOOR_BODY (the bench passes what our server answers to a lookup) and the headers
// Node adds itself. No framework, no key check, no log line, no metrics, no security headers: what
// the same exchange costs this machine before the service does anything. PORT and HOST as ours.
import { createServer } from 'node:http';

const body = process.env.FLOOR_BODY;
if (body === undefined) throw new Error('FLOOR_BODY: the body to answer every request with');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };

const server = createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
