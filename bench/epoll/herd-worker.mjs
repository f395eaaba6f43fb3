// One process of bench/epoll/herd.mjs: an @loop/backend-epoll-ffi HTTP server on a shared
// listening socket inherited as fd 3 (MODE shared or exclusive), or on a socket of its own bound
// with SO_REUSEPORT to PORT (MODE reuseport). Prints `ready` once it serves, and its loop's
// counters as `stats <json>` when SIGTERM has closed it.
import { createLoop } from '@loop/backend-epoll-ffi';

const mode = process.env.MODE;
const loop = createLoop({ trigger: process.env.TRIGGER === 'edge' ? 'edge' : 'level' });
const options = mode === 'reuseport' ? { port: Number(process.env.PORT), reusePort: true } : { fd: 3, exclusive: mode === 'exclusive' };
const server = await loop.serveHttp(options, (_request, response) => response.respond(200, { 'content-type': 'text/plain' }, 'hello world'));
process.stdout.write('ready\n');
process.once('SIGTERM', () => loop.callSoon(() => server.close()));
await loop.run();
process.stdout.write(`stats ${JSON.stringify(loop.stats)}\n`);
loop.close();
