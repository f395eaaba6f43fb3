import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  HttpHandler,
  HttpLimits,
  HttpRequest,
  HttpRequestEvents,
  HttpResponse,
  HttpResponseEvents,
  HttpServer,
  HttpServerOptions,
  SocketAddress,
} from '@loop/core';
import { checkRequestHead, HandleBase, resolveHttpLimits, type LoopBase } from '@loop/core/kit';
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

/** {@link HttpRequest} over Node's `IncomingMessage`; Node listeners are attached only when asked for. */
class NodeHttpRequest implements HttpRequest {
  private events: HttpRequestEvents = {};
  private reading = false;
  private received = 0;

  constructor(
    private readonly exchange: HttpExchange,
    private readonly req: IncomingMessage,
  ) {}

  get method(): string {
    return this.req.method as string;
  }
  get url(): string {
    return this.req.url as string;
  }
  get httpVersion(): string {
    return this.req.httpVersion;
  }
  get headers(): Readonly<Record<string, string>> {
    return this.req.headers as Record<string, string>;
  }
  get remoteAddress(): SocketAddress | undefined {
    const socket = this.req.socket;
    return socketAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
  }

  on(events: HttpRequestEvents): this {
    this.events = { ...this.events, ...events };
    if (events.aborted) this.exchange.watchClose();
    // Node emits 'end' only once the body was consumed, so asking for either starts reading.
    if (!this.reading && (this.events.data || this.events.end)) {
      this.reading = true;
      const loop = this.exchange.loop;
      this.req.on('data', (chunk: Buffer) => loop.io(this.emitData, this, chunk));
      this.req.on('end', () => loop.io(this.emitEnd, this, undefined));
    }
    return this;
  }

  pause(): this {
    this.req.pause();
    return this;
  }

  resume(): this {
    this.req.resume();
    return this;
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
    const data = this.events.data;
    if (data) this.exchange.guard(data, chunk);
  }

  private emitEnd(): void {
    const end = this.events.end;
    if (end && this.received <= this.exchange.limits.maxBodySize) this.exchange.guard(end, undefined);
  }

  /** Called by the exchange when the client left before the response ended. */
  aborted(): void {
    this.events.aborted?.();
  }
}

/** One request/response pair; also the {@link HttpResponse} the handler writes. */
class HttpExchange implements HttpResponse {
  readonly request: NodeHttpRequest;
  private events: HttpResponseEvents = {};
  private statusCode = 200;
  private watchingClose = false;
  private watchingDrain = false;

  constructor(
    readonly loop: LoopBase,
    readonly limits: Required<HttpLimits>,
    private readonly res: ServerResponse,
  ) {
    this.request = new NodeHttpRequest(this, res.req);
  }

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.res.setHeader(name, value);
    return this;
  }

  write(chunk: Uint8Array | string): boolean {
    this.sendHead();
    return this.res.write(chunk);
  }

  end(chunk?: Uint8Array | string): void {
    if (this.res.writableEnded) return;
    this.sendHead();
    if (chunk === undefined) this.res.end();
    else this.res.end(chunk);
  }

  on(events: HttpResponseEvents): this {
    this.events = { ...this.events, ...events };
    if (events.close) this.watchClose();
    if (events.drain && !this.watchingDrain) {
      this.watchingDrain = true;
      this.res.on('drain', () => this.loop.io(this.emitDrain, this, undefined));
    }
    return this;
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  get finished(): boolean {
    return this.res.writableEnded;
  }

  watchClose(): void {
    if (this.watchingClose) return;
    this.watchingClose = true;
    this.res.on('close', () => this.loop.io(this.emitClose, this, undefined));
  }

  /** Refuse the request with `status` (if nothing was sent yet) and close the connection. */
  refuse(status: number): void {
    if (this.res.headersSent) this.res.socket?.destroy();
    else refuse(this.res, status);
  }

  /**
   * Run a callback of this exchange; if it throws, the exchange fails like a throwing handler.
   * (Callbacks run after the client left, `aborted` and `close`, are only reported, by loop.io.)
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

  private sendHead(): void {
    if (!this.res.headersSent) this.res.statusCode = this.statusCode;
  }

  private emitDrain(): void {
    const drain = this.events.drain;
    if (drain) this.guard(drain, undefined);
  }

  private emitClose(): void {
    if (!this.res.writableFinished) this.request.aborted();
    this.events.close?.();
  }
}

/** {@link HttpServer} over `node:http`. */
export class NodeHttpServer extends HandleBase implements HttpServer {
  readonly kind = 'http server';
  private boundAddress: SocketAddress | undefined;

  private constructor(
    loop: LoopBase,
    private readonly server: Server,
    private readonly limits: Required<HttpLimits>,
    private readonly handler: HttpHandler,
  ) {
    super(loop);
  }

  /** Create, bind and listen; resolves with the active server handle. */
  static async listen(loop: LoopBase, options: HttpServerOptions, handler: HttpHandler): Promise<NodeHttpServer> {
    const limits = resolveHttpLimits(options);
    const server = createServer({
      // Node's own header limit is set past ours (URL included): our exact checks answer first.
      maxHeaderSize: limits.maxHeaderSize + limits.maxUrlLength + 1024,
      keepAliveTimeout: limits.keepAliveTimeout,
      headersTimeout: limits.headersTimeout,
      requestTimeout: 0,
      // How often Node looks for connections past headersTimeout (its default is 30 s).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeout / 4))),
      joinDuplicateHeaders: true,
      noDelay: true,
    });
    // One past our limit, so a request over it is seen (Node would silently drop the rest).
    server.maxHeadersCount = limits.maxHeaderCount + 1;
    const handle = new NodeHttpServer(loop, server, limits, handler);
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => loop.io(handle.dispatch, handle, res));
    handle.boundAddress = await listenServer(server, options);
    server.on('error', (error: Error) => loop.report(error, 'poll'));
    server.on('close', () => handle.closedByHost());
    handle.activate();
    return handle;
  }

  get address(): SocketAddress {
    return this.boundAddress as SocketAddress;
  }

  private dispatch(res: ServerResponse): void {
    const req = res.req;
    const status = checkRequestHead(this.limits, req.url as string, req.rawHeaders);
    if (status !== 0) {
      refuse(res, status);
      return;
    }
    const exchange = new HttpExchange(this.loop, this.limits, res);
    let result: void | Promise<void>;
    try {
      result = this.handler(exchange.request, exchange);
    } catch (error) {
      exchange.failed(error);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(undefined, (error: unknown) => exchange.failed(error));
    }
  }

  protected override refChanged(referenced: boolean): void {
    if (referenced) this.server.ref();
    else this.server.unref();
  }

  protected override beginClose(): void {
    // Stop accepting; idle keep-alive connections go now, busy ones after their response.
    this.server.close();
    this.server.closeIdleConnections();
  }
}
