/**
 * `@loop/backend-libuv`: the {@link EventLoop} contract on Node's own loop (libuv through Node
 * core). The phases run on the shared kit; I/O is node:net and node:http.
 * @packageDocumentation
 */
import type {
  Capabilities,
  Completion,
  ConnectOptions,
  EventLoop,
  HttpHandler,
  HttpServer,
  HttpServerOptions,
  IoWatcher,
  ListenOptions,
  LoopOptions,
  TcpServer,
  TcpStream,
} from '@loop/core';
import { HostPoller, LoopBase, resolveHttpLimits, resolveListenOptions, type ResolvedListenOptions } from '@loop/core/kit';
import { connectStream } from './connect.js';
import { NodeHttpServer } from './http-server.js';
import { createUvIoWatcher, IO_SUPPORTED } from './io-watcher.js';
import { NODE_HONOURS_REUSE_PORT } from './listen.js';
import { NodeTcpServer } from './tcp-server.js';

/** The backend's name. */
export const name = 'libuv';

/**
 * Everything but `websocket`, `io` where koffi cannot reach libuv's `uv_poll` (see io-watcher.ts),
 * and `reusePort` where Node ignores it (before Node 22.12: the option is accepted and silently
 * dropped, so it is refused here).
 */
export const capabilities: Capabilities = Object.freeze({
  runOnce: true,
  runNowait: true,
  idle: true,
  prepare: true,
  check: true,
  io: IO_SUPPORTED,
  tcp: true,
  reusePort: NODE_HONOURS_REUSE_PORT,
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

class LibuvLoop extends LoopBase {
  readonly backend = name;
  readonly capabilities = capabilities;
  protected readonly poller: HostPoller = new HostPoller(this);

  protected override createIoWatcher(fd: number, callback: (watcher: IoWatcher, events: number) => void): IoWatcher {
    return createUvIoWatcher(this, fd, callback);
  }

  protected startListen(options: ListenOptions, onConnection: (stream: TcpStream) => void, done: Completion<TcpServer>): void {
    NodeTcpServer.start(this, this.listenOptions(options), onConnection, done);
  }

  protected startConnect(options: ConnectOptions, done: Completion<TcpStream>): void {
    connectStream(this, options, done);
  }

  protected startServeHttp(options: HttpServerOptions, handler: HttpHandler, done: Completion<HttpServer>): void {
    const listen = this.listenOptions(options);
    NodeHttpServer.start(this, listen, resolveHttpLimits(options), handler, done);
  }

  private listenOptions(options: ListenOptions): ResolvedListenOptions {
    const resolved = resolveListenOptions(options);
    if (resolved.reusePort) this.requireCapability('reusePort', 'Node before 22.12 ignores listen({ reusePort }); use the epoll-ffi backend');
    return resolved;
  }
}

/**
 * Create a loop on Node's own event loop.
 * @example
 * ```ts
 * import { createLoop } from '@loop/backend-libuv';
 * const loop = createLoop();
 * const server = await loop.serveHttp({ port: 8080 }, (req, res) => res.respond(200, { 'content-type': 'text/plain' }, 'hello'));
 * await loop.run();
 * ```
 */
export function createLoop(options: LoopOptions = {}): EventLoop {
  return new LibuvLoop(options.onError);
}
