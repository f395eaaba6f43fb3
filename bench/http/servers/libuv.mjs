// @loop/backend-libuv: our loop on Node's own libuv, serving through `serveHttp` with the
// `response.respond(status, headers, body)` fast path, the counterpart of node-raw.mjs's
// writeHead + end. respond() adds the content-length itself, so the wire bytes match node-raw's.
// The server protocol (bench/README.md) is lib/hello-server.mjs's.
import { createLoop } from '@loop/backend-libuv';
import { serveHello } from '../lib/hello-server.mjs';

await serveHello(createLoop());
