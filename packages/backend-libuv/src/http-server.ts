import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import {
  EventLoopError,
  type Completion,
  type HttpHandler,
  type HttpHeaders,
  type HttpHeaderValue,
  type HttpLimits,
  type HttpRequest,
  type HttpRequestEvents,
  type HttpResponse,
  type HttpResponseEvents,
  type HttpServer,
  type SocketAddress,
} from '@loop/core';
import {
  checkChunk,
  checkRequestHead,
  HandleBase,
  HEAD_OK_WITH_BODY,
  RequestHead,
  sameHeaderName,
  type LoopBase,
  type ResolvedListenOptions,
} from '@loop/core/kit';
import { listenServer } from './listen.js';
import { socketAddress } from './tcp-stream.js';

const STATUS_TEXT: Record<number, string> = {
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

/** Answer `status` with a short body and close the connection afterwards. */
function refuse(res: ServerResponse, status: number): void {
  const body = `${STATUS_TEXT[status] ?? 'Error'}\n`;
  res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * The head of a {@link HttpResponse.respond} as the flat `[name, value, ...]` list Node's
 * writeHead accepts, with `Content-Length` added unless one was given or the status has no body.
 */
function headLines(status: number, headers: HttpHeaders | undefined, body: Uint8Array | string | undefined, lengthSet: boolean): unknown[] {
  const lines: unknown[] = [];
  let hasLength = lengthSet;
  if (headers !== undefined) {
    for (const name in headers) {
      lines.push(name, headers[name]);
      if (!hasLength && name.length === 14 && sameHeaderName(name, 'content-length')) hasLength = true;
    }
  }
  if (!hasLength && status !== 204 && status !== 304 && status >= 200) {
    lines.push('content-length', body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  }
  return lines;
}

function checkStatus(code: unknown): number {
  if (!Number.isInteger(code) || (code as number) < 100 || (code as number) > 999) {
    throw new EventLoopError('ERR_INVALID_ARG', `status must be an integer in [100, 999], got ${String(code)}`);
  }
  return code as number;
}

/** Node's own header checks throw Node errors (ERR_INVALID_CHAR, ...): give them the contract's code. */
function headerError(error: unknown): EventLoopError {
  if (error instanceof EventLoopError) return error;
  return new EventLoopError('ERR_INVALID_ARG', `invalid header: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function headersSentError(what: string): EventLoopError {
  return new EventLoopError('ERR_HEADERS_SENT', `${what} after the response headers were sent`);
}

/**
 * {@link HttpRequest} over Node's `IncomingMessage`. The head is read from `rawHeaders`, so Node
 * never builds its header object; Node listeners for the body are attached only when needed.
 */
class NodeHttpRequest extends RequestHead implements HttpRequest {
  private events: HttpRequestEvents = {};
  private received = 0;
  private paused = false;
  private held: Buffer[] = [];
  private endHeld = false;
  private ended = false;
  private reading = false;

  constructor(
    private readonly exchange: HttpExchange,
    private readonly req: IncomingMessage,
  ) {
    super();
  }

  protected headMethod(): string {
    return this.req.method as string;
  }
  protected headUrl(): string {
    return this.req.url as string;
  }
  protected headVersion(): string {
    return this.req.httpVersion;
  }
  protected headRemote(): SocketAddress | undefined {
    const socket = this.req.socket;
    return socketAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
  }
  protected headRaw(): readonly string[] {
    return this.req.rawHeaders;
  }

  on(events: HttpRequestEvents): this {
    this.assertLive('request.on() was called');
    this.events = { ...this.events, ...events };
    if (events.aborted) this.exchange.watchClose();
    return this;
  }

  pause(): this {
    this.paused = true;
    this.req.pause();
    return this;
  }

  resume(): this {
    this.paused = false;
    if (this.held.length > 0 || this.endHeld) this.exchange.loop.deliver(this.releaseHeld, this, undefined);
    if (this.reading) this.req.resume();
    return this;
  }

  /**
   * The handler returned: read the body if one may follow or a callback waits for its end. A body
   * nobody asked for is read too, counted against maxBodySize and dropped.
   */
  startReading(hasBody: boolean): void {
    this.live = false;
    if (!hasBody && !this.events.end) return; // Node drops an empty body when the response ends
    this.reading = true;
    const loop = this.exchange.loop;
    this.req.on('data', (chunk: Buffer) => loop.deliver(this.emitData, this, chunk));
    this.req.on('end', () => loop.deliver(this.emitEnd, this, undefined));
    if (this.paused) this.req.pause();
  }

  private emitData(chunk: Buffer): void {
    const limit = this.exchange.limits.maxBodySize;
    if (this.received > limit) return; // refused already: the rest of the body is dropped
    this.received += chunk.length;
    if (this.received > limit) {
      // A chunked body (its size was not declared up front) went over the limit.
      this.exchange.refuse(413);
      return;
    }
    if (this.paused || this.held.length > 0) {
      this.held.push(chunk);
      return;
    }
    const data = this.events.data;
    if (data) this.exchange.guard(data, chunk);
  }

  private releaseHeld(): void {
    const data = this.events.data;
    while (this.held.length > 0 && !this.paused) {
      const chunk = this.held.shift() as Buffer;
      if (data) this.exchange.guard(data, chunk);
    }
    if (this.held.length === 0 && this.endHeld && !this.paused) {
      this.endHeld = false;
      this.emitEnd();
    }
  }

  private emitEnd(): void {
    if (this.ended || this.received > this.exchange.limits.maxBodySize) return;
    if (this.paused || this.held.length > 0) {
      this.endHeld = true;
      return;
    }
    this.ended = true;
    const end = this.events.end;
    if (end) this.exchange.guard(end, undefined);
  }

  /** Called by the exchange when the client left before the response ended. */
  aborted(): void {
    this.events.aborted?.();
  }
}

/** One request/response pair; also the {@link HttpResponse} the handler writes. */
class HttpExchange implements HttpResponse {
  readonly request: NodeHttpRequest;
  readonly loop: LoopBase;
  readonly limits: Required<HttpLimits>;
  private events: HttpResponseEvents = {};
  private statusCode = 200;
  private watchingClose = false;
  private watchingDrain = false;

  constructor(
    private readonly server: NodeHttpServer,
    private readonly res: ServerResponse,
  ) {
    this.loop = server.loop;
    this.limits = server.limits;
    this.request = new NodeHttpRequest(this, res.req);
  }

  status(code: number): this {
    if (this.res.headersSent) throw headersSentError('status() was called');
    this.statusCode = checkStatus(code);
    return this;
  }

  setHeader(name: string, value: HttpHeaderValue): this {
    if (this.res.headersSent) throw headersSentError(`setHeader('${name}') was called`);
    try {
      this.res.setHeader(name, value);
    } catch (error) {
      throw headerError(error);
    }
    return this;
  }

  write(chunk: Uint8Array | string): boolean {
    checkChunk(chunk);
    if (this.res.writableEnded || this.aborted) return false;
    if (!this.res.headersSent) {
      this.sendHead();
      this.server.streamingStarted(this);
    }
    return this.res.write(chunk);
  }

  end(chunk?: Uint8Array | string): void {
    if (chunk !== undefined) checkChunk(chunk);
    if (this.res.writableEnded || this.aborted) return;
    this.sendHead();
    if (chunk === undefined) this.res.end();
    else this.res.end(chunk);
    this.server.streamingEnded(this);
  }

  respond(status: number, headers?: HttpHeaders, body?: Uint8Array | string): void {
    if (this.res.writableEnded || this.aborted) return;
    if (this.res.headersSent) throw headersSentError('respond() was called');
    checkStatus(status);
    if (body !== undefined) checkChunk(body);
    if (this.server.closing) this.res.shouldKeepAlive = false;
    try {
      // Node's fastest path is writeHead then end(body); but writeHead stores the head at once, so
      // end() can no longer add Content-Length and Node would fall back to chunked encoding. The
      // whole body is known here: pass the head as one flat list with its Content-Length.
      this.res.writeHead(status, headLines(status, headers, body, this.res.hasHeader('content-length')) as unknown as OutgoingHttpHeaders);
    } catch (error) {
      throw headerError(error);
    }
    if (body === undefined) this.res.end();
    else this.res.end(body);
  }

  on(events: HttpResponseEvents): this {
    this.events = { ...this.events, ...events };
    if (events.close) this.watchClose();
    if (events.drain && !this.watchingDrain) {
      this.watchingDrain = true;
      this.res.on('drain', () => this.loop.deliver(this.emitDrain, this, undefined));
    }
    return this;
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  get finished(): boolean {
    return this.res.writableEnded;
  }

  get aborted(): boolean {
    if (this.res.writableFinished) return false;
    // res.socket is null while a pipelined response waits for the ones before it: ask the request's.
    return this.res.destroyed || this.res.req.socket.destroyed;
  }

  watchClose(): void {
    if (this.watchingClose) return;
    this.watchingClose = true;
    this.res.on('close', () => this.loop.deliver(this.emitClose, this, undefined));
  }

  /** Refuse the request with `status` (if nothing was sent yet) and close the connection. */
  refuse(status: number): void {
    this.server.streamingEnded(this);
    if (this.res.headersSent) this.res.socket?.destroy();
    else if (!this.res.writableEnded) refuse(this.res, status);
  }

  /**
   * Run a callback of this exchange; if it throws, the exchange fails like a throwing handler.
   * (Callbacks run after the client left, `aborted` and `close`, are only reported.)
   */
  guard<A>(callback: (arg: A) => void, arg: A): void {
    try {
      callback(arg);
    } catch (error) {
      this.failed(error);
    }
  }

  /** The handler (or a body or drain callback) threw or rejected: report it, answer 500 and close this connection. */
  failed(error: unknown): void {
    this.loop.report(error, 'poll');
    this.refuse(500);
  }

  /** The server is closing: a response still streaming closes its connection once it ends. */
  closeWhenFinished(): void {
    this.res.shouldKeepAlive = false;
    // The connection: Node detaches it from the response on 'finish' before a listener added
    // here runs (res.socket is null by then), and leaves it open when its headers said keep-alive.
    const socket = this.res.req.socket;
    if (this.res.writableFinished) socket.end();
    else this.res.once('finish', () => socket.end());
  }

  private sendHead(): void {
    if (this.res.headersSent) return;
    this.res.statusCode = this.statusCode;
    if (this.server.closing) this.res.shouldKeepAlive = false;
  }

  private emitDrain(): void {
    const drain = this.events.drain;
    if (drain) this.guard(drain, undefined);
  }

  private emitClose(): void {
    this.server.streamingEnded(this);
    if (!this.res.writableFinished) this.request.aborted();
    this.events.close?.();
  }
}

/** {@link HttpServer} over `node:http`. */
export class NodeHttpServer extends HandleBase implements HttpServer {
  readonly kind = 'http server';
  /** `close()` was called: every response from now on says `Connection: close`. */
  closing = false;
  private boundAddress: SocketAddress | undefined;
  /** Responses whose headers went out before their end: close() must close them once they end. */
  private readonly streaming = new Set<HttpExchange>();

  private constructor(
    loop: LoopBase,
    private readonly server: Server,
    readonly limits: Readonly<Required<HttpLimits>>,
    private readonly handler: HttpHandler,
  ) {
    super(loop);
  }

  /** Create, bind and listen; `done` gets the active server handle or the bind error. */
  static start(
    loop: LoopBase,
    options: ResolvedListenOptions,
    limits: Readonly<Required<HttpLimits>>,
    handler: HttpHandler,
    done: Completion<HttpServer>,
  ): void {
    const server = createServer({
      // Node's own header limit is set past ours (URL included): our exact checks answer first.
      // A request line longer than this still gets Node's 431 (README: "limits").
      maxHeaderSize: limits.maxHeaderSize + limits.maxUrlLength + 1024,
      keepAliveTimeout: limits.keepAliveTimeout,
      headersTimeout: limits.headersTimeout,
      requestTimeout: 0,
      // How often Node looks for connections past headersTimeout (its default is 30 s).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeout / 4))),
      noDelay: true,
    });
    // One past our limit, so a request over it is seen (Node would silently drop the rest).
    server.maxHeadersCount = limits.maxHeaderCount + 1;
    const handle = new NodeHttpServer(loop, server, limits, handler);
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => loop.deliver(handle.dispatch, handle, res));
    listenServer(server, options, (error, address) => {
      if (error) {
        done(error, undefined);
        return;
      }
      handle.boundAddress = address;
      server.on('error', (serverError: Error) => loop.deliver(handle.serverFailed, handle, serverError));
      server.on('close', () => handle.closedByHost());
      handle.activate();
      done(undefined, handle);
    });
  }

  get address(): SocketAddress {
    return this.boundAddress as SocketAddress;
  }

  private dispatch(res: ServerResponse): void {
    const req = res.req;
    const head = checkRequestHead(this.limits, req.url as string, req.rawHeaders);
    if (head > HEAD_OK_WITH_BODY) {
      refuse(res, head);
      return;
    }
    if (this.closing) res.shouldKeepAlive = false;
    const exchange = new HttpExchange(this, res);
    const request = exchange.request;
    let result: void | Promise<void>;
    try {
      result = this.handler(request, exchange);
    } catch (error) {
      request.live = false;
      exchange.failed(error);
      return;
    }
    request.startReading(head === HEAD_OK_WITH_BODY);
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      // Reported through the loop's queue, so in a poll phase: never after run() has returned.
      (result as Promise<void>).then(undefined, (error: unknown) => this.loop.deliver(exchange.failed, exchange, error));
    }
  }

  private serverFailed(error: Error): void {
    this.loop.report(error, 'poll');
  }

  /** A response sent its headers before its end. */
  streamingStarted(exchange: HttpExchange): void {
    this.streaming.add(exchange);
    exchange.watchClose(); // so a client that leaves mid-stream takes it out of the set
    if (this.closing) exchange.closeWhenFinished();
  }

  /** A response ended (or failed): it no longer needs closing by close(). */
  streamingEnded(exchange: HttpExchange): void {
    this.streaming.delete(exchange);
  }

  protected override refChanged(referenced: boolean): void {
    if (referenced) this.server.ref();
    else this.server.unref();
  }

  protected override beginClose(): void {
    // Stop accepting; idle keep-alive connections go now, busy ones after their response, which
    // says `Connection: close` when its headers are still to be sent.
    this.closing = true;
    for (const exchange of this.streaming) exchange.closeWhenFinished();
    this.server.close();
    this.server.closeIdleConnections();
  }
}
