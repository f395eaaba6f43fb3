import type { Capabilities, Completion, ConnectOptions, ErrorHandler, HttpHandler, HttpServer, HttpServerOptions, ListenOptions, TcpServer, TcpStream } from '@loop/core';
import { UnsupportedError } from '@loop/core';
import { HostPoller, LoopBase } from '@loop/core/kit';
import { UwsHttpServer } from './http-server.js';

/**
 * The kit's phase machine over Node's loop, with uWebSockets.js for HTTP and WebSocket.
 *
 * uWS runs inside Node's libuv loop and calls into JavaScript from there. Its request object and
 * body chunks are valid only inside those calls, and a response it sees unanswered at the end of
 * one must have `onAborted`. So an event that arrives while this loop is in its poll phase (the
 * usual case: `run()` waits by returning to Node) runs its user callback right there, inside
 * uWS's call: nothing is copied, and the answer is corked by uWS. An event that arrives when the
 * loop is not polling (not running, or inside a call into uWS made by user code) is copied and
 * queued with `deliver()` for the next poll phase instead.
 */
export class UwsLoop extends LoopBase {
  readonly backend: string;
  readonly capabilities: Capabilities;
  protected readonly poller: HostPoller = new HostPoller(this);
  /**
   * Calls into uWS made on behalf of user code (`end()`, `close()`, `cork()`...) that are in
   * progress. uWS may call back from inside them (an `onAborted` during `close()`); such a
   * callback is inside user code and must not run user callbacks there.
   */
  nativeDepth = 0;
  /** The poll-phase batch of direct events has read the clock; a queued tick ends it. */
  private batchOpen = false;

  constructor(backend: string, capabilities: Capabilities, onError?: ErrorHandler) {
    super(onError);
    this.backend = backend;
    this.capabilities = capabilities;
  }

  /**
   * Whether a uWS callback may run user callbacks now: the loop is in its poll phase and no
   * user code is on the stack.
   */
  canRunNow(): boolean {
    return this.nativeDepth === 0 && this.isPolling();
  }

  /**
   * A uWS callback is about to run user callbacks directly (after {@link canRunNow}). The first
   * one of a batch reads the clock and queues a tick, so that the kit sees the batch end: it may
   * end the poll phase (`run('once')`, check hooks) as it does after queued I/O.
   */
  beginDirect(): void {
    if (this.batchOpen) return;
    this.batchOpen = true;
    this.updateTime();
    this.deliver(this.endBatch, this, undefined);
  }

  private endBatch(): void {
    this.batchOpen = false;
  }

  protected startListen(_options: ListenOptions, _onConnection: (stream: TcpStream) => void, _done: Completion<TcpServer>): void {
    // The kit checks capabilities.tcp first; this is reached only if that declaration changes.
    throw new UnsupportedError(this.backend, 'tcp', 'uWebSockets.js has no raw TCP server');
  }

  protected startConnect(_options: ConnectOptions, _done: Completion<TcpStream>): void {
    throw new UnsupportedError(this.backend, 'tcp', 'uWebSockets.js has no raw TCP client');
  }

  protected startServeHttp(options: HttpServerOptions, handler: HttpHandler, done: Completion<HttpServer>): void {
    UwsHttpServer.start(this, options, handler, done);
  }
}
