// @loop/backend-epoll-ffi: our loop on a raw epoll set through koffi, serving through `serveHttp`
// with the `response.respond(status, headers, body)` fast path (the shape of node-raw.mjs's
// writeHead + end), with edge-triggered sockets.
// The server protocol (bench/README.md) is lib/hello-server.mjs's.
import { createLoop } from '@loop/backend-epoll-ffi';
import { serveHello } from '../lib/hello-server.mjs';

await serveHello(createLoop({ trigger: 'edge' }));
