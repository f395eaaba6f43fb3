import type { EventLoopError } from './errors.js';
import type { Handle } from './loop.js';

/** An IP endpoint. */
export interface SocketAddress {
  /** IP address in text form, such as `127.0.0.1` or `::1`. */
  readonly address: string;
  /** Port number. */
  readonly port: number;
  /** `'IPv4'` or `'IPv6'`. */
  readonly family: 'IPv4' | 'IPv6';
}

/**
 * The endpoint of an HTTP client: a {@link SocketAddress} whose `port` a backend leaves
 * `undefined` when its host does not tell it (uWebSockets.js 20.30 gives the peer's IP only),
 * rather than make one up.
 */
export interface PeerAddress {
  /** IP address in text form, such as `127.0.0.1` or `::1`. */
  readonly address: string;
  /** Port number, or `undefined` when the backend cannot know it. */
  readonly port: number | undefined;
  /** `'IPv4'` or `'IPv6'`. */
  readonly family: 'IPv4' | 'IPv6';
}

/** Where and how to listen. Accepted streams have TCP_NODELAY set; see {@link TcpStream.setNoDelay}. */
export interface ListenOptions {
  /** Address to bind; defaults to `'127.0.0.1'` so nothing is exposed by accident. */
  readonly host?: string;
  /** Port to bind; `0` (the default) picks a free port, read it from `server.address`. */
  readonly port?: number;
  /** Length of the accept queue; default 511 (libuv's and Node's). */
  readonly backlog?: number;
  /**
   * Set SO_REUSEPORT so several processes can bind the same port and the kernel spreads
   * connections among them. Backends without `capabilities.reusePort` reject with
   * {@link UnsupportedError}.
   */
  readonly reusePort?: boolean;
}

/** Where to connect. */
export interface ConnectOptions {
  /** Host to connect to; default `'127.0.0.1'`. */
  readonly host?: string;
  /** Port to connect to. */
  readonly port: number;
  /** Disable Nagle's algorithm (TCP_NODELAY); default `true`. */
  readonly noDelay?: boolean;
}

/**
 * Callbacks of a stream. `data`, `end` and `drain` run in the poll phase, `close` in the close
 * phase. Set them with {@link TcpStream.on}; a stream reads only while a `data` callback is set
 * and it is not paused.
 */
export interface StreamEvents {
  /**
   * A chunk arrived. The chunk is borrowed: it is valid during this call only (the backend may
   * reuse its memory afterwards), so copy it (`Buffer.from(chunk)`) to keep it.
   */
  data?(chunk: Uint8Array): void;
  /** The peer half-closed its side (FIN): no more data will arrive. Writing is still allowed. */
  end?(): void;
  /** The write buffer, once over its high-water mark, has drained: `write()` may go on. */
  drain?(): void;
  /**
   * The stream is fully closed and its fd released; runs in the close phase, exactly once.
   * `error` is set when it closed because of a socket error (`ECONNRESET`, `EPIPE`, ...), and
   * is otherwise `undefined`.
   */
  close?(error: EventLoopError | undefined): void;
}

/**
 * A connected TCP stream (libuv's `uv_tcp_t` used as a stream).
 *
 * Lifecycle: open → (`end()` half-closed for writing) → closed. `close()` (from {@link Handle})
 * and `destroy()` both close at once, dropping unwritten data; `end()` closes gracefully after
 * the peer's end. The `close` event runs exactly once. Once `close()` is called no `data` or
 * `end` callback runs any more, even for data that had already arrived.
 */
export interface TcpStream extends Handle {
  /** Set (replace) the callbacks named in `events`; others are left as they were. */
  on(events: StreamEvents): this;
  /**
   * Queue `data` for writing; the stream copies what it cannot send at once, so the caller may
   * reuse `data` after the call. Returns `false` when the queued amount is over the high-water
   * mark: stop writing until the `drain` callback. After `end()`, `destroy()`, `close()` or a
   * socket error the write does nothing and returns `false` (see {@link TcpStream.writable});
   * it never throws for that. An error found while writing (`EPIPE`, say) closes the stream
   * later, in a loop phase, with the error in the `close` callback.
   * @throws InvalidArgumentError when `data` is neither a string nor a Uint8Array (nothing is sent)
   */
  write(data: Uint8Array | string): boolean;
  /**
   * Flush queued data, then half-close (send FIN). Idempotent; a no-op once closed.
   * @throws InvalidArgumentError when `data` is given and is neither a string nor a Uint8Array
   */
  end(data?: Uint8Array | string): void;
  /** Stop reading (TCP flow control pushes back on the peer). Idempotent. */
  pause(): this;
  /** Resume reading. Idempotent. */
  resume(): this;
  /** Close at once, dropping unwritten data; `error` is passed to the `close` callback. */
  destroy(error?: EventLoopError): void;
  /** Set TCP_NODELAY. */
  setNoDelay(noDelay: boolean): this;
  /** `true` until `end()`, `destroy()`, `close()` or a socket error: whether `write()` can still send. */
  readonly writable: boolean;
  /** Bytes queued for writing and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** The local endpoint; `undefined` once closed. */
  readonly localAddress: SocketAddress | undefined;
  /** The peer's endpoint; `undefined` once closed. */
  readonly remoteAddress: SocketAddress | undefined;
}

/**
 * A listening TCP socket. `close()` stops accepting; streams already accepted stay open.
 */
export interface TcpServer extends Handle {
  /** The bound endpoint (read the port here after listening on port 0). */
  readonly address: SocketAddress;
}
