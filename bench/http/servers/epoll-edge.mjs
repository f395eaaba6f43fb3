// @loop/backend-epoll-ffi: our loop on a raw epoll set through koffi, serving through `serveHttp`
// with the `response.respond(status, headers, body)` fast path (the shape of node-raw.mjs's
// writeHead + end), with edge-triggered sockets.
// Follows the server protocol of bench/README.md: PORT from the environment (0 = any free port),
// one `listening <port>` line on stdout, GET / answers 200 text/plain "hello world", SIGTERM exits.
import { createLoop } from '@loop/backend-epoll-ffi';

const BODY = 'hello world';
const HEADERS = { 'content-type': 'text/plain' };

const loop = createLoop({ trigger: 'edge' });
const server = await loop.serveHttp({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (request, response) => {
  response.respond(200, HEADERS, BODY);
});
process.stdout.write(`listening ${server.address.port}\n`);

process.once('SIGTERM', () => {
  // A Node signal callback is outside the loop's phases: close the server from the loop's pending
  // phase. close() stops accepting and closes idle connections; run() then returns.
  loop.callSoon(() => server.close());
});

await loop.run();
loop.close();
