// The floor for the bench's --compare-node: Node's own HTTP server, doing nothing but answer every
// request with FLOOR_BODY (the bench passes what our server answers to a lookup) and the headers
// Node adds itself. No framework, no key check, no log line, no metrics, no security headers: what
// the same exchange costs this machine before the service does anything. PORT and HOST as ours.
// FLOOR_WORK_US (bench/extra-work.ts only): that many microseconds of CPU spent on each request
// before answering, as a lookup's extra work would.
import { createServer } from 'node:http';

const body = process.env.FLOOR_BODY;
if (body === undefined) throw new Error('FLOOR_BODY: the body to answer every request with');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };

const work = BigInt(Math.round(Number(process.env.FLOOR_WORK_US ?? 0) * 1000));

const server = createServer((_request, response) => {
  if (work > 0n) {
    const until = process.hrtime.bigint() + work;
    while (process.hrtime.bigint() < until);
  }
  response.writeHead(200, headers);
  response.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
