import type { ListenOptions, PeerAddress, TcpServer } from './stream.js';
import type { WebSocketBehavior, WebSocketServer } from './websocket.js';

/**
 * Limits and timeouts of an HTTP server. A request over a limit is answered with the status
 * named beside it and its connection is closed; the server goes on serving others. A backend
 * that cannot set a limit declares it in `capabilities.httpLimits`.
 */
export interface HttpLimits {
  /** Total bytes of header names and values (431 over it). Default 16 KiB. */
  readonly maxHeaderSize?: number;
  /** Number of header lines (431 over it). Default 100. */
  readonly maxHeaderCount?: number;
  /** Bytes of the request target (414 over it). Default 8 KiB. */
  readonly maxUrlLength?: number;
  /**
   * Bytes of the request body, declared or chunked, read by the handler or not (413 over it,
   * or the connection is closed when the response has already started). Default 1 MiB.
   */
  readonly maxBodySize?: number;
  /** ms allowed to receive a request's headers once its first byte arrived (408 after it). Default 60 s. */
  readonly headersTimeout?: number;
  /** ms an idle keep-alive connection is kept open between requests. Default 5 s. */
  readonly keepAliveTimeout?: number;
}

/** The defaults of {@link HttpLimits}. */
export const DEFAULT_HTTP_LIMITS: Required<HttpLimits> = Object.freeze({
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxUrlLength: 8 * 1024,
  maxBodySize: 1024 * 1024,
  headersTimeout: 60_000,
  keepAliveTimeout: 5_000,
});

/** Options of {@link EventLoop.serveHttp}: where to listen plus the limits. */
export interface HttpServerOptions extends ListenOptions, HttpLimits {
  /**
   * Accept WebSocket upgrades on this server (see {@link WebSocketBehavior}); its side of the
   * server is then `server.websocket`. A backend without `capabilities.websocket` fails
   * `serveHttp` with {@link UnsupportedError} when this is given.
   */
  readonly websocket?: WebSocketBehavior;
}

/**
 * Callbacks of a request. They must be set during the handler's synchronous call (see
 * {@link HttpRequest.on}); they run in the poll phase.
 */
export interface HttpRequestEvents {
  /**
   * A chunk of the body (after any chunked transfer-coding is removed). The chunk is borrowed:
   * it is valid during this call only, so copy it (`Buffer.from(chunk)`) to keep it.
   */
  data?(chunk: Uint8Array): void;
  /** The body is complete (for a request without a body: right after the handler returns). */
  end?(): void;
  /** The client went away before the response ended. */
  aborted?(): void;
}

/**
 * What a request head looks like once copied out of the request by
 * {@link HttpRequest.snapshot}: plain data, owned by the caller, valid for ever.
 */
export interface HttpRequestSnapshot {
  /** Method in upper case, such as `GET`. */
  readonly method: string;
  /** The request target as sent, such as `/path?q=1`. */
  readonly url: string;
  /** `'1.1'` or `'1.0'`. */
  readonly httpVersion: string;
  /** Every header, as {@link HttpRequest.headers} gives them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The client's endpoint (its port `undefined` where the backend cannot know it). */
  readonly remoteAddress: PeerAddress | undefined;
}

/**
 * An HTTP request as seen by a handler.
 *
 * **Lifetime.** The head (method, url, version, headers, remote address) is valid during the
 * handler's synchronous call only: a backend may parse it in place from a buffer it reuses
 * (uWebSockets.js does). Reading any of it later throws `ERR_REQUEST_EXPIRED` on every backend,
 * so code that works on one backend works on all. Keep what you need before the handler returns:
 * `request.snapshot()`, or single fields copied into variables.
 *
 * **Headers.** Names are matched case-insensitively. A field sent on several lines is combined as
 * RFC 9110 §5.3 says, its values joined with `', '`, except `cookie`, joined with `'; '`
 * (RFC 9113 §8.2.3). `set-cookie` cannot be combined (RFC 9110 §5.3): {@link HttpRequest.header}
 * gives its first line and {@link HttpRequest.headerValues} all of them. Lookups allocate nothing
 * unless a field has several lines; {@link HttpRequest.headers} builds an object on demand.
 */
export interface HttpRequest {
  /** Method in upper case, such as `GET`. @throws EventLoopError `ERR_REQUEST_EXPIRED` */
  readonly method: string;
  /** The request target as sent, such as `/path?q=1`. @throws EventLoopError `ERR_REQUEST_EXPIRED` */
  readonly url: string;
  /** `'1.1'` or `'1.0'`. @throws EventLoopError `ERR_REQUEST_EXPIRED` */
  readonly httpVersion: string;
  /**
   * The client's endpoint (its port `undefined` where the backend cannot know it).
   * @throws EventLoopError `ERR_REQUEST_EXPIRED`
   */
  readonly remoteAddress: PeerAddress | undefined;
  /**
   * The value of header `name` (combined as the interface says), or `undefined` when absent.
   * @throws EventLoopError `ERR_REQUEST_EXPIRED`
   */
  header(name: string): string | undefined;
  /** Every line's value of header `name`, in order; empty when absent. @throws EventLoopError `ERR_REQUEST_EXPIRED` */
  headerValues(name: string): string[];
  /**
   * Call `callback(name, value)` for every header line in the order received; names in lower
   * case. @throws EventLoopError `ERR_REQUEST_EXPIRED`
   */
  forEachHeader(callback: (name: string, value: string) => void): void;
  /**
   * A new object of every header, names in lower case, values combined as the interface says
   * (`set-cookie`: the first line). @throws EventLoopError `ERR_REQUEST_EXPIRED`
   */
  headers(): Record<string, string>;
  /** Copy the head into a plain object that stays valid. @throws EventLoopError `ERR_REQUEST_EXPIRED` */
  snapshot(): HttpRequestSnapshot;
  /**
   * Set (replace) the named callbacks. Only during the handler's synchronous call: a body that no
   * `data` callback asked for by then is read and discarded (still counted against
   * `maxBodySize`), as uWebSockets.js does.
   * @throws EventLoopError `ERR_REQUEST_EXPIRED` after the handler returned
   */
  on(events: HttpRequestEvents): this;
  /** Stop reading the body (backpressure on the client); allowed at any time. */
  pause(): this;
  /** Resume reading the body; allowed at any time. */
  resume(): this;
}

/** Callbacks of a response; they run in the poll phase. */
export interface HttpResponseEvents {
  /** The write buffer drained after `write()` returned `false`. */
  drain?(): void;
  /** The exchange is over: the response was fully sent, or the connection closed first. */
  close?(): void;
}

/** A header value of a response: a string array sends the header once per element. */
export type HttpHeaderValue = string | number | readonly string[];

/** Response headers by name, for {@link HttpResponse.respond}. */
export type HttpHeaders = Readonly<Record<string, HttpHeaderValue>>;

/**
 * The response a handler writes. Headers go out with the first `write`, `end` or `respond`.
 *
 * It may be answered during the handler's call or any time later (after a timer, a promise...):
 * the backend keeps whatever its host needs for that (uWebSockets.js's `onAborted`, corking).
 * Once the response ended or the client left, `write()` returns `false` and `end()` does
 * nothing: neither ever throws for that.
 */
export interface HttpResponse {
  /**
   * Set the status (default 200).
   * @throws EventLoopError `ERR_HEADERS_SENT` once headers were sent; `ERR_INVALID_ARG` outside 100–999
   */
  status(code: number): this;
  /**
   * Set a header; a string array sends the header several times.
   * @throws EventLoopError `ERR_HEADERS_SENT` once headers were sent; `ERR_INVALID_ARG` for a
   * name or value with characters HTTP forbids (CR, LF, ...)
   */
  setHeader(name: string, value: HttpHeaderValue): this;
  /**
   * Send headers (if not yet) and a body chunk; the response copies what it cannot send at once.
   * `false` means wait for `drain`, or (once `finished` or `aborted`) that nothing was sent.
   * @throws InvalidArgumentError when `chunk` is neither a string nor a Uint8Array (nothing is sent)
   */
  write(chunk: Uint8Array | string): boolean;
  /**
   * Finish the response, optionally with a last chunk. Idempotent; a no-op once the client left.
   * @throws InvalidArgumentError when `chunk` is given and is neither a string nor a Uint8Array
   */
  end(chunk?: Uint8Array | string): void;
  /**
   * The fast path for the common response: status, headers and the whole body in one call
   * (`writeHead` + `end`). The body goes out with a `Content-Length` unless `headers` has one
   * (none for 1xx, 204 and 304). Headers set before with `setHeader` are sent too, and `headers`
   * wins over them. After `end()`, or once the client left, it does nothing.
   * @throws EventLoopError `ERR_HEADERS_SENT` once `write()` sent the headers; `ERR_INVALID_ARG` as
   * for `status` and `setHeader`, or for a body that is neither a string nor a Uint8Array
   */
  respond(status: number, headers?: HttpHeaders, body?: Uint8Array | string): void;
  /** Set (replace) the named response callbacks. */
  on(events: HttpResponseEvents): this;
  /** `true` once the status line and headers were sent. */
  readonly headersSent: boolean;
  /** `true` once `end()` or `respond()` was called. */
  readonly finished: boolean;
  /** `true` once the client went away before the response was fully sent. */
  readonly aborted: boolean;
}

/**
 * Handles one request. It runs in the poll phase. If it throws, or the promise it returns
 * rejects, or a `data`, `end` or `drain` callback of its exchange throws, the client gets a 500
 * (when headers are not yet sent), that connection is closed, and the error goes to the loop's
 * error handler in a loop phase (never after `run()` has returned: it waits for the next run).
 */
export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void | Promise<void>;

/**
 * A listening HTTP server. `close()` stops accepting, closes idle connections at once, and lets
 * each busy connection finish its current response, sent with `Connection: close`, then closes
 * it; the close callback runs once every connection is gone.
 */
export interface HttpServer extends TcpServer {
  /** The limits in force: the options given, the defaults, and what the backend fixes. */
  readonly limits: Readonly<Required<HttpLimits>>;
  /** Publishing and the WebSocket limits in force, when served with `websocket`; else `undefined`. */
  readonly websocket?: WebSocketServer;
}
