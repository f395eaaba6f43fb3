import type { HttpLimits } from './http.js';

/**
 * Which {@link HttpLimits} a backend can set per server. A limit marked `false` is fixed by the
 * backend (its value is reported in `HttpServer.limits`); asking `serveHttp` for another value
 * rejects with {@link UnsupportedError} naming the option.
 */
export type HttpLimitCapabilities = { readonly [Limit in keyof HttpLimits]-?: boolean };

/**
 * What a backend supports. A `false` entry means the matching API throws
 * {@link UnsupportedError}; it is never emulated in a different order or silently ignored.
 */
export interface Capabilities {
  /** `run('once')`. */
  readonly runOnce: boolean;
  /** `run('nowait')`. */
  readonly runNowait: boolean;
  /** `loop.idle()` hooks. */
  readonly idle: boolean;
  /** `loop.prepare()` hooks. */
  readonly prepare: boolean;
  /** `loop.check()` hooks. */
  readonly check: boolean;
  /** `loop.io()`: watch any pollable file descriptor for readability and writability. */
  readonly io: boolean;
  /** `loop.listen()` / `loop.connect()`. */
  readonly tcp: boolean;
  /** `listen({ reusePort: true })`: several sockets bound to one port (SO_REUSEPORT). */
  readonly reusePort: boolean;
  /** `loop.serveHttp()`. */
  readonly http: boolean;
  /**
   * A request pipelined behind one whose response is still pending (answered after an
   * asynchronous gap) is answered in order. Without it the backend may close such a connection;
   * requests answered synchronously are always answered in order.
   */
  readonly httpPipelining: boolean;
  /**
   * A malformed request head is answered with 400 and its connection closed at once. Without it
   * the backend closes such a connection without a status, at its head timeout at the latest (a
   * parser that cannot tell a malformed head from an unfinished one waits for the rest).
   */
  readonly httpBadRequest: boolean;
  /**
   * `server.close()` closes idle keep-alive connections at once. Without it, idle connections are
   * closed once no response is in flight on the server; busy ones are answered with
   * `Connection: close` either way.
   */
  readonly httpCloseIdle: boolean;
  /** The HTTP limits a server can set; see {@link HttpLimitCapabilities}. */
  readonly httpLimits: HttpLimitCapabilities;
  /** A WebSocket server on top of the HTTP server (upgrade, messages, close codes, backpressure). */
  readonly websocket: boolean;
}
