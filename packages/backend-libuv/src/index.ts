/**
 * `@loop/backend-libuv`: the {@link EventLoop} contract on Node's own loop (libuv through Node
 * core). The phases run on the shared kit; I/O is node:net and node:http.
 * @packageDocumentation
 */
import type { Capabilities, ConnectOptions, EventLoop, HttpHandler, HttpServer, HttpServerOptions, ListenOptions, LoopOptions, TcpServer, TcpStream } from '@loop/core';
import { HostPoller, LoopBase } from '@loop/core/kit';
import { connectStream } from './connect.js';
import { NodeHttpServer } from './http-server.js';
import { NodeTcpServer } from './tcp-server.js';

/** The backend's name. */
export const name = 'libuv';

/**
 * Everything but `reusePort`, which Node 20 accepts and ignores (so it is refused here).
 */
export const capabilities: Capabilities = Object.freeze({
  runOnce: true,
  runNowait: true,
  idle: true,
  prepare: true,
  check: true,
  tcp: true,
  reusePort: false,
  http: true,
});

class LibuvLoop extends LoopBase {
  readonly backend = name;
  readonly capabilities = capabilities;
  protected readonly poller: HostPoller = new HostPoller(this);

  // async, so that every failure (a closed loop, a bad option) is a rejection, as documented.
  async listen(options: ListenOptions, onConnection: (stream: TcpStream) => void): Promise<TcpServer> {
    this.assertNotClosed();
    return NodeTcpServer.listen(this, options, onConnection);
  }

  async connect(options: ConnectOptions): Promise<TcpStream> {
    this.assertNotClosed();
    return connectStream(this, options);
  }

  async serveHttp(options: HttpServerOptions, handler: HttpHandler): Promise<HttpServer> {
    this.assertNotClosed();
    return NodeHttpServer.listen(this, options, handler);
  }
}

/**
 * Create a loop on Node's own event loop.
 * @example
 * ```ts
 * import { createLoop } from '@loop/backend-libuv';
 * const loop = createLoop();
 * const server = await loop.serveHttp({ port: 8080 }, (req, res) => res.end('hello'));
 * await loop.run();
 * ```
 */
export function createLoop(options: LoopOptions = {}): EventLoop {
  return new LibuvLoop(options.onError);
}
