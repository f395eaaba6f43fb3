import type { Capabilities } from '@loop/core';

/** The backend's name. */
export const name = 'epoll-ffi';

/**
 * Everything but WebSockets: this is the one backend where `io` is native (an fd watcher is one more
 * fd in the loop's epoll set) and where `reusePort` is honoured (the sockets are the backend's own).
 * Every HTTP limit is set per server.
 */
export const capabilities: Capabilities = Object.freeze({
  runOnce: true,
  runNowait: true,
  idle: true,
  prepare: true,
  check: true,
  io: true,
  tcp: true,
  reusePort: true,
  http: true,
  httpPipelining: true,
  httpBadRequest: true,
  httpCloseIdle: true,
  httpLimits: Object.freeze({
    maxHeaderSize: true,
    maxHeaderCount: true,
    maxUrlLength: true,
    maxBodySize: true,
    headersTimeout: true,
    keepAliveTimeout: true,
  }),
  websocket: false,
});
