import type { Capabilities } from '@loop/core';

/** The backend's name. */
export const name = 'virtual';

/**
 * Every loop phase and run mode, TCP on the virtual network with `reusePort` (connections spread
 * over the listeners by the seed); no `io` (there are no file descriptors), no `http` and no
 * `websocket` (see the README: an HTTP client with real sockets cannot reach the virtual network,
 * so the conformance suite could not check a virtual HTTP server).
 */
export const capabilities: Capabilities = Object.freeze({
  runOnce: true,
  runNowait: true,
  idle: true,
  prepare: true,
  check: true,
  io: false,
  tcp: true,
  reusePort: true,
  http: false,
  httpPipelining: false,
  httpBadRequest: false,
  httpCloseIdle: false,
  httpLimits: Object.freeze({
    maxHeaderSize: false,
    maxHeaderCount: false,
    maxUrlLength: false,
    maxBodySize: false,
    headersTimeout: false,
    keepAliveTimeout: false,
  }),
  websocket: false,
});
