// @loop/backend-epoll-ffi with every request parsed by llhttp (serveHttp's `parser: 'llhttp'`):
// epoll.mjs without the backend's fast path, to show what the fast path is worth.
// Follows the server protocol of bench/README.md: PORT from the environment (0 = any free port),
// one `listening <port>` line on stdout, GET / answers 200 text/plain "hello world", SIGTERM exits.
import { createLoop } from '@loop/backend-epoll-ffi';

const BODY = 'hello world';
const HEADERS = { 'content-type': 'text/plain' };

const loop = createLoop();
const options = { host: '127.0.0.1', port: Number(process.env.PORT ?? 0), parser: 'llhttp' };
const server = await loop.serveHttp(options, (request, response) => {
  response.respond(200, HEADERS, BODY);
});
process.stdout.write(`listening ${server.address.port}\n`);

process.once('SIGTERM', () => {
  loop.callSoon(() => server.close());
});

await loop.run();
loop.close();
