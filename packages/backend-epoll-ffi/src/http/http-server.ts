import type { HttpHandler, HttpLimits, HttpServer } from '@loop/core';
import type { KitTimer } from '@loop/core/kit';
import { AcceptServer } from '../accept-server.js';
import type { EpollLoop } from '../epoll-loop.js';
import type { ListeningSocket } from '../listen-socket.js';
import { HttpConnection } from './http-connection.js';
import type { HttpExchange } from './http-exchange.js';
import { loadLlhttp, type Llhttp, type NodeHttpParser } from './llhttp.js';
import { DateLine } from './response-head.js';
import { SimpleRequestParser, type SimpleRequest } from './simple-request.js';

// llhttp's callbacks: one function each for every parser, the connection is the parser's `owner`
// (node:http does the same), so no closure is made per connection.
function onHeadersComplete(
  this: NodeHttpParser,
  major: number,
  minor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  _status: unknown,
  _message: unknown,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  return (this.owner as HttpConnection).onHead(major, minor, headers, method, url, upgrade, keepAlive);
}
function onMessageBegin(this: NodeHttpParser): void {
  (this.owner as HttpConnection).onBegin();
}
function onHeaders(this: NodeHttpParser, headers: string[], url: string): void {
  (this.owner as HttpConnection).onPartialHead(headers, url);
}
function onBody(this: NodeHttpParser, chunk: Buffer): void {
  (this.owner as HttpConnection).onBody(chunk);
}
function onMessageComplete(this: NodeHttpParser): void {
  (this.owner as HttpConnection).onComplete();
}

/** The async resource every parser reports to async_hooks (one for all: nothing tracks it per request). */
const PARSER_RESOURCE = Object.freeze({ type: '@loop/backend-epoll-ffi HTTP parser' });
/** Parsers kept for reuse per server (node:http keeps up to 1000 per process). */
const PARSER_POOL = 256;
/** The sweep that enforces timeouts runs this many times per shortest timeout, within these bounds. */
const SWEEPS_PER_TIMEOUT = 5;
const SWEEP_MIN_MS = 5;
const SWEEP_MAX_MS = 1000;

/**
 * {@link HttpServer} on a listening socket of the loop: each accepted fd becomes an
 * {@link HttpConnection}. Timeouts are one coarse sweep per server (a repeating timer, active
 * only while connections exist) over each connection's deadline: starting or ending a request
 * touches no timer, and the sweep costs nothing while the server is idle.
 */
export class EpollHttpServer extends AcceptServer implements HttpServer {
  readonly kind = 'http server';
  /** `close()` was called: every response from now on says `Connection: close`. */
  closing = false;
  readonly methods: readonly string[];
  /** `Connection: keep-alive` and `Keep-Alive: timeout=<s>` lines, and the blank line. */
  readonly keepAliveLines: string;
  /** The fast path in front of llhttp (see simple-request.ts), and the object it fills. */
  readonly simple: SimpleRequestParser;
  readonly simpleRequest: SimpleRequest = { method: 0, url: '', minor: 1, headers: [], keepAlive: true, bodyStart: 0, bodyLength: 0 };
  /** llhttp's own head limit (`maxHeaderSize` + `maxUrlLength` + 1 KiB); the fast path declines past it. */
  readonly maxHeaderSize: number;
  private readonly connections = new Set<HttpConnection>();
  private readonly parsers: NodeHttpParser[] = [];
  private readonly sweeper: KitTimer;
  private readonly date = new DateLine();
  private tailDate = '';
  private tail = '';

  private constructor(
    loop: EpollLoop,
    socket: ListeningSocket,
    readonly limits: Readonly<Required<HttpLimits>>,
    private readonly handler: HttpHandler,
    private readonly llhttp: Llhttp,
    /** Whether the fast path reads the requests it can (else llhttp reads them all). */
    readonly fastPath: boolean,
  ) {
    super(loop, socket);
    this.methods = llhttp.methods;
    this.simple = new SimpleRequestParser(llhttp.methods);
    this.keepAliveLines = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(limits.keepAliveTimeout / 1000)}\r\n\r\n`;
    // llhttp's own limit counts the request line too; it is set past ours so that our exact checks
    // answer first (414, 431). A head longer than this gets llhttp's overflow, answered 431.
    this.maxHeaderSize = limits.maxHeaderSize + limits.maxUrlLength + 1024;
    const period = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, Math.floor(Math.min(limits.headersTimeout, limits.keepAliveTimeout) / SWEEPS_PER_TIMEOUT)));
    this.sweeper = loop.timer(() => this.sweep()) as KitTimer;
    this.sweeper.repeat = period;
    // The server handle keeps the loop alive; its sweep alone must not.
    this.sweeper.unref();
  }

  /**
   * Watch `socket` and return the active server.
   * @throws Error when Node's HTTP parser is not what this backend expects; SocketError when the
   * socket cannot be watched (it is closed then)
   */
  static start(loop: EpollLoop, socket: ListeningSocket, limits: Readonly<Required<HttpLimits>>, handler: HttpHandler, fastPath: boolean): EpollHttpServer {
    let llhttp: Llhttp;
    try {
      llhttp = loadLlhttp();
    } catch (error) {
      loop.libc.close(socket.fd);
      throw error;
    }
    const server = new EpollHttpServer(loop, socket, limits, handler, llhttp, fastPath);
    server.startListening();
    return server;
  }

  /** The `Date` line, formatted at most once a second. */
  dateLine(): string {
    return this.date.get(this.loop.now());
  }

  /** The `Date` line, the keep-alive lines and the blank line: the end of most heads, built once a second. */
  keepAliveTail(): string {
    const date = this.date.get(this.loop.now());
    if (date !== this.tailDate) {
      this.tailDate = date;
      this.tail = date + this.keepAliveLines;
    }
    return this.tail;
  }

  protected accepted(fd: number): void {
    if (this.closing) {
      this.loop.libc.close(fd);
      return;
    }
    const connection = new HttpConnection(this, fd, this.takeParser());
    if (connection.start() !== 0) {
      connection.closeNow();
      return;
    }
    this.connections.add(connection);
    if (this.connections.size === 1) this.sweeper.again();
  }

  /** Run the handler for `exchange`; see the contract's HttpHandler for what a failure does. */
  dispatch(exchange: HttpExchange): void {
    const request = exchange.request;
    let result: void | Promise<void>;
    try {
      result = this.handler(request, exchange);
    } catch (error) {
      request.live = false;
      exchange.failed(error);
      return;
    }
    request.live = false;
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      // Reported through the loop's queue, so in a poll phase: never after run() has returned.
      (result as Promise<void>).then(undefined, (error: unknown) => this.loop.deliver(exchange.failed, exchange, error));
    }
  }

  private takeParser(): NodeHttpParser {
    const llhttp = this.llhttp;
    let parser = this.parsers.pop();
    if (parser === undefined) {
      parser = llhttp.create();
      parser[llhttp.kOnMessageBegin] = onMessageBegin;
      parser[llhttp.kOnHeaders] = onHeaders;
      parser[llhttp.kOnHeadersComplete] = onHeadersComplete;
      parser[llhttp.kOnBody] = onBody;
      parser[llhttp.kOnMessageComplete] = onMessageComplete;
    }
    // initialize() resets llhttp's state: a reused parser starts clean.
    parser.initialize(llhttp.REQUEST, PARSER_RESOURCE, this.maxHeaderSize, llhttp.kLenientNone);
    return parser;
  }

  /** A connection closed its fd: recycle its parser; the server finishes closing after its last one. */
  connectionGone(connection: HttpConnection, parser: NodeHttpParser): void {
    this.connections.delete(connection);
    parser.owner = undefined;
    if (this.parsers.length < PARSER_POOL && !this.closing) this.parsers.push(parser);
    else parser.close();
    if (this.connections.size === 0) {
      this.sweeper.stop();
      if (this.closing) this.finishClose();
    }
  }

  private sweep(): void {
    const now = this.loop.now();
    for (const connection of this.connections) connection.sweep(now);
  }

  protected override beginClose(): void {
    // Stop accepting; idle connections close now, busy ones after their responses, which say
    // `Connection: close`. The close callback runs once the last connection is gone.
    this.closing = true;
    this.stopListening();
    for (const connection of this.connections) connection.serverClosing();
    if (this.connections.size === 0) this.finishClose();
  }

  private finishClose(): void {
    this.sweeper.close();
    for (const parser of this.parsers.splice(0)) parser.close();
    this.closedByHost();
  }
}
