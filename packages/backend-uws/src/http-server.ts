import { STATUS_CODES } from 'node:http';
import type { Completion, HttpHandler, HttpLimits, HttpServer, HttpServerOptions, SocketAddress } from '@loop/core';
import { HandleBase, resolveHttpLimits, type FixedHttpLimits } from '@loop/core/kit';
import type { HttpRequest as UwsRequest, HttpResponse as UwsResponse, TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
import { HEAD_OK_WITH_BODY, HeadScanner } from './head-check.js';
import { UwsExchange } from './http-response.js';
import { checkListenOptions, listenUws } from './listen.js';
import { uws, type UwsModule } from './native.js';
import { UwsWebSocketSide } from './websocket.js';
import type { UwsLoop } from './uws-loop.js';

/** The app as the binary has it: its typings lack `close()` (closes the listen socket and every connection). */
type UwsApp = TemplatedApp & { close(): void };

/**
 * The limits this uWebSockets.js build fixes, measured against the binary and its source
 * (uWebSockets v20.4x, `src/HttpParser.h` and `src/HttpContext.h`):
 * - a head that arrives in more than one read must fit uWS's 4 KiB buffer (`MAX_FALLBACK_SIZE`);
 *   one that arrives whole is checked here against the same 4 KiB of header lines (431);
 * - at most 48 header lines are parsed (`MAX_HEADERS = 50`, less the request line and the end);
 * - a connection idle for 10 s, between requests or inside an unfinished head, is closed
 *   (`HTTP_IDLE_TIMEOUT_S`), without a status.
 * None of these is an option or an environment variable in this build.
 */
export const UWS_FIXED_LIMITS: FixedHttpLimits = Object.freeze({
  backend: 'uws',
  limits: Object.freeze({ maxHeaderSize: 4096, maxHeaderCount: 48, headersTimeout: 10_000, keepAliveTimeout: 10_000 }),
  why: 'uWebSockets.js 20.30 fixes it for the process at build time',
});

/**
 * {@link HttpServer} over a uWS `App` with one catch-all route. Requests are checked (limits and
 * RFC 9112's refusals) before the handler sees them; see {@link UwsLoop} for when the handler
 * runs inside uWS's callback and when it is queued.
 */
export class UwsHttpServer extends HandleBase implements HttpServer {
  readonly kind = 'http server';
  /** `close()` was called: every response from now on closes its connection. */
  closing = false;
  /** The exchange whose uWS callback is running: its writes are corked by uWS already. */
  corked: UwsExchange | undefined;
  private listenSocket: us_listen_socket | undefined;
  private boundAddress: SocketAddress | undefined;
  /** Exchanges dispatched and not yet answered or aborted: close() waits for them. */
  private busy = 0;
  private readonly scanner = new HeadScanner();
  /** The WebSocket side, when served with `websocket`. */
  websocket: UwsWebSocketSide | undefined;

  private constructor(
    override readonly loop: UwsLoop,
    private readonly native: UwsModule,
    private readonly app: UwsApp,
    readonly limits: Readonly<Required<HttpLimits>>,
    private readonly handler: HttpHandler,
  ) {
    super(loop);
  }

  /** Check the options, create the app and listen; `done` gets the active server or the error. */
  static start(loop: UwsLoop, options: HttpServerOptions, handler: HttpHandler, done: Completion<HttpServer>): void {
    const listen = checkListenOptions(loop.backend, options);
    const limits = resolveHttpLimits(options, UWS_FIXED_LIMITS);
    const native = uws();
    const app = native.App() as UwsApp;
    const server = new UwsHttpServer(loop, native, app, limits, handler);
    // The ws route first: uWS hands it upgrade requests and passes the others on to `any`.
    if (options.websocket !== undefined) server.websocket = new UwsWebSocketSide(server, app, options.websocket);
    app.any('/*', server.onRequest);
    listenUws(native, app, listen, (error, listening) => {
      if (error !== undefined || listening === undefined) {
        app.close();
        done(error, undefined);
        return;
      }
      server.listenSocket = listening.socket;
      server.boundAddress = listening.address;
      server.activate();
      done(undefined, server);
    });
  }

  get address(): SocketAddress {
    return this.boundAddress as SocketAddress;
  }

  /** uWS's request callback: `req` is valid only during this call, `res` until answered or aborted. */
  private readonly onRequest = (res: UwsResponse, req: UwsRequest): void => {
    const scanner = this.scanner;
    const head = scanner.scan(req, this.limits);
    if (head > HEAD_OK_WITH_BODY) {
      this.refuseHead(res, head);
      return;
    }
    const direct = this.loop.canRunNow();
    const raw = direct ? scanner.raw : scanner.raw.slice();
    const hasBody = head === HEAD_OK_WITH_BODY;
    const exchange = new UwsExchange(this, res, req.getCaseSensitiveMethod(), scanner.url, raw, hasBody, scanner.clientClose);
    if (!direct) exchange.request.keepRemoteAddress();
    this.busy++;
    // uWS drops a body whose onData is not attached before this callback returns.
    if (hasBody) res.onData(exchange.onData);
    if (direct) {
      this.loop.beginDirect();
      this.corked = exchange;
      try {
        this.runHandler(exchange);
      } finally {
        this.corked = undefined;
      }
    } else {
      exchange.queued++;
      this.loop.deliver(this.runQueued, this, exchange);
    }
    // uWS aborts the process when a response left unanswered here has no onAborted.
    if (!exchange.answered) res.onAborted(exchange.onAborted);
  };

  /** Check a head with the server's scanner (see {@link HeadScanner.scan}). */
  checkHead(req: UwsRequest): number {
    return this.scanner.scan(req, this.limits);
  }

  /** What the last {@link checkHead} read: the url and the header lines (borrowed). */
  scanned(): HeadScanner {
    return this.scanner;
  }

  /** Refuse a request (see {@link HeadRefusal}). */
  refuse(res: UwsResponse, status: number): void {
    this.refuseHead(res, status);
  }

  private runQueued(exchange: UwsExchange): void {
    exchange.queued--;
    this.runHandler(exchange);
  }

  private runHandler(exchange: UwsExchange): void {
    let result: void | Promise<void>;
    try {
      result = this.handler(exchange.request, exchange);
    } catch (error) {
      exchange.handlerReturned();
      // Inside uWS's callback the 500 waits for the next poll phase: uWS would otherwise go on to
      // serve requests pipelined behind this one before closing (see refuseHead).
      if (this.corked === exchange) exchange.failLater(error);
      else exchange.failed(error);
      return;
    }
    exchange.handlerReturned();
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      // Reported through the loop's queue, so in a poll phase: never after run() has returned.
      (result as Promise<void>).then(undefined, (error: unknown) => this.loop.deliver(exchange.failed, exchange, error));
    }
  }

  /** Refuse a head (limits, RFC 9112): see {@link HeadRefusal}. */
  private refuseHead(res: UwsResponse, status: number): void {
    const refusal = new HeadRefusal(this, res, status);
    res.onAborted(refusal.onAborted);
    this.busy++;
    this.loop.deliver(refusal.send, refusal, undefined);
  }

  /** An exchange (or a refused head) was answered, or its client left: a closing server may be done. */
  exchangeDone(): void {
    this.busy--;
    if (this.closing && this.busy === 0) this.loop.deliver(this.shutDown, this, undefined);
  }

  protected override beginClose(): void {
    // Stop accepting at once. uWS cannot tell an idle keep-alive connection from a busy one, so
    // the app's remaining connections are closed once no exchange is in flight; meanwhile every
    // response says `Connection: close`.
    this.closing = true;
    this.websocket?.closeAll();
    if (this.listenSocket !== undefined) {
      this.native.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
    if (this.busy === 0) this.shutDown();
  }

  private shutDown(): void {
    if (!this.closing || this.busy > 0 || this.isActive() === false) return;
    this.loop.nativeDepth++;
    try {
      this.app.close(); // closes every remaining connection now; their fds are released
    } finally {
      this.loop.nativeDepth--;
    }
    this.closedByHost();
  }
}

/**
 * A refused head, answered in the next poll phase. Answered inside uWS's callback, the status
 * would go out but uWS would then serve the requests pipelined behind it in the same read before
 * closing; left pending (with `onAborted`), a request pipelined behind it makes uWS close the
 * connection instead, and a lone one gets its status.
 */
class HeadRefusal {
  private aborted = false;
  readonly onAborted = (): void => {
    this.aborted = true;
  };

  constructor(
    private readonly server: UwsHttpServer,
    private readonly res: UwsResponse,
    private readonly status: number,
  ) {}

  send(): void {
    if (!this.aborted) {
      const text = `${STATUS_CODES[this.status] ?? 'Error'}\n`;
      const line = `${this.status} ${STATUS_CODES[this.status] ?? 'Error'}`;
      const res = this.res;
      this.server.loop.nativeDepth++;
      try {
        res.cork(() => {
          res.writeStatus(line).writeHeader('Content-Type', 'text/plain').end(text, true);
        });
      } finally {
        this.server.loop.nativeDepth--;
      }
    }
    this.server.exchangeDone();
  }
}
