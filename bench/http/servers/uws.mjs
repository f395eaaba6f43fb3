// @loop/backend-uws: our loop with uWebSockets.js serving HTTP, through `serveHttp` with the
// `response.respond(status, headers, body)` fast path (the shape of uws-raw.mjs's answer).
// The server protocol (bench/README.md) is lib/hello-server.mjs's.
import { createLoop } from '@loop/backend-uws';
import { serveHello } from '../lib/hello-server.mjs';

await serveHello(createLoop());
