// @loop/backend-epoll-ffi with every request parsed by llhttp (serveHttp's `parser: 'llhttp'`):
// epoll.mjs without the backend's fast path, to show what the fast path is worth.
// The server protocol (bench/README.md) is lib/hello-server.mjs's.
import { createLoop } from '@loop/backend-epoll-ffi';
import { serveHello } from '../lib/hello-server.mjs';

await serveHello(createLoop(), { parser: 'llhttp' });
