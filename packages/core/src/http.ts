import type { ListenOptions, SocketAddress, TcpServer } from './stream.js';

/**
 * Limits and timeouts of an HTTP server. A request over a limit is answered with the status
 * named beside it and its connection is closed; the server goes on serving others.
 */
export interface HttpLimits {
  /** Total bytes of header names and values (431 over it). Default 16 KiB. */
  readonly maxHeaderSize?: number;
  /** Number of header lines (431 over it). Default 100. */
  readonly maxHeaderCount?: number;
  /** Bytes of the request target (414 over it). Default 8 KiB. */
  readonly maxUrlLength?: number;
  /** Bytes of the request body, declared or chunked (413 over it). Default 1 MiB. */
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
export interface HttpServerOptions extends ListenOptions, HttpLimits {}

/** Callbacks of a request body; they run in the poll phase. */
export interface HttpRequestEvents {
  /** A chunk of the body (after any chunked transfer-coding is removed). */
  data?(chunk: Uint8Array): void;
  /** The body is complete. For a request without a body it runs right after the handler returns. */
  end?(): void;
  /** The client went away before the response ended. */
  aborted?(): void;
}

/** An HTTP request as seen by a handler. */
export interface HttpRequest {
  /** Method in upper case, such as `GET`. */
  readonly method: string;
  /** The request target as sent, such as `/path?q=1`. */
  readonly url: string;
  /** `'1.1'` or `'1.0'`. */
  readonly httpVersion: string;
  /** Header names in lower case; repeated headers are joined with `', '`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The client's endpoint. */
  readonly remoteAddress: SocketAddress | undefined;
  /** Set (replace) the named body callbacks. */
  on(events: HttpRequestEvents): this;
  /** Stop reading the body (backpressure on the client). */
  pause(): this;
  /** Resume reading the body. */
  resume(): this;
}

/** Callbacks of a response; they run in the poll phase. */
export interface HttpResponseEvents {
  /** The write buffer drained after `write()` returned `false`. */
  drain?(): void;
  /** The exchange is over: the response was fully sent, or the connection closed first. */
  close?(): void;
}

/** The response a handler writes. Headers go out with the first `write` or `end`. */
export interface HttpResponse {
  /** Set the status (default 200) before anything is written. */
  status(code: number): this;
  /** Set a header before anything is written; a string array sends the header several times. */
  setHeader(name: string, value: string | number | readonly string[]): this;
  /** Send headers (if not yet) and a body chunk. `false` means wait for `drain`. */
  write(chunk: Uint8Array | string): boolean;
  /** Finish the response, optionally with a last chunk. Idempotent. */
  end(chunk?: Uint8Array | string): void;
  /** Set (replace) the named response callbacks. */
  on(events: HttpResponseEvents): this;
  /** `true` once the status line and headers were sent. */
  readonly headersSent: boolean;
  /** `true` once `end()` was called. */
  readonly finished: boolean;
}

/**
 * Handles one request. It runs in the poll phase. If it throws, or the promise it returns
 * rejects, or a `data`, `end` or `drain` callback of its exchange throws, the client gets a 500
 * (when headers are not yet sent), that connection is closed, and the error goes to the loop's
 * error handler.
 */
export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void | Promise<void>;

/** A listening HTTP server; `close()` stops accepting and closes idle connections. */
export interface HttpServer extends TcpServer {}
