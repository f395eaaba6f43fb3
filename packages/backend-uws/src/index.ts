/**
 * `@loop/backend-uws`: the {@link EventLoop} contract with HTTP (and WebSocket) served by
 * uWebSockets.js. uWS has no timers or phases of its own: those are the kit's phase machine over
 * Node's loop, exactly as in `@loop/backend-libuv`; uWS supplies the HTTP server.
 * @packageDocumentation
 */
import type { Capabilities, EventLoop, LoopOptions } from '@loop/core';
import { uws } from './native.js';
import { UwsLoop } from './uws-loop.js';

/** The backend's name. */
export const name = 'uws';

/**
 * What this backend offers. Missing: raw TCP (`tcp`: uWS.js has no plain TCP server or client),
 * fd watchers (`io`), pipelining behind an unanswered request (`httpPipelining`: uWS closes such a
 * connection), and four limits uWS fixes (`httpLimits`; their values are in `server.limits`).
 * `reusePort` is uSockets' own SO_REUSEPORT.
 */
export const capabilities: Capabilities = Object.freeze({
  runOnce: true,
  runNowait: true,
  idle: true,
  prepare: true,
  check: true,
  io: false,
  tcp: false,
  reusePort: process.platform === 'linux',
  http: true,
  httpPipelining: false,
  httpBadRequest: false,
  httpCloseIdle: false,
  httpLimits: Object.freeze({
    maxHeaderSize: false,
    maxHeaderCount: false,
    maxUrlLength: true,
    maxBodySize: true,
    headersTimeout: false,
    keepAliveTimeout: false,
  }),
  websocket: true,
});

/**
 * Create a loop whose HTTP server is uWebSockets.js. The native binary is loaded here (once per
 * process), never on import.
 * @throws EventLoopError `ERR_UWS_BINARY` when this platform, CPU or Node ABI has no uWS binary
 * (the package's pure-JS fallback is refused, never used)
 * @example
 * ```ts
 * import { createLoop } from '@loop/backend-uws';
 * const loop = createLoop();
 * const server = await loop.serveHttp({ port: 8080 }, (req, res) => res.respond(200, { 'content-type': 'text/plain' }, 'hello'));
 * await loop.run();
 * ```
 */
export function createLoop(options: LoopOptions = {}): EventLoop {
  uws();
  return new UwsLoop(name, capabilities, options.onError);
}
