import type { HttpRequest } from './http.js';
import type { SocketAddress } from './stream.js';

/**
 * What `send()` and `ping()` did with a message:
 * - `'sent'`: handed to the kernel;
 * - `'buffered'`: queued because the socket has backpressure; wait for the `drain` callback
 *   before sending more;
 * - `'dropped'`: not sent, because the socket's buffer is over `maxBackpressure` or the socket
 *   is closed.
 */
export type WebSocketSendStatus = 'sent' | 'buffered' | 'dropped';

/**
 * A server-side WebSocket (RFC 6455), from its `open` callback to its `close` callback.
 *
 * Once closed (by either side), every method is a harmless no-op: `send()` and `ping()` return
 * `'dropped'`, the topic methods return `false` (or nothing), `close()` and `terminate()` do
 * nothing. Nothing here ever throws for a closed socket, so code that races a disconnect is safe.
 */
export interface WebSocket<UserData = unknown> {
  /** What the upgrade accepted it with (`upgrade.accept(data)`); `undefined` without an upgrade callback. */
  readonly data: UserData;
  /** The client's endpoint, as `HttpRequest.remoteAddress` gives it. */
  readonly remoteAddress: SocketAddress | undefined;
  /** Bytes queued on this socket and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** `true` once the socket is closed (its `close` callback may still be queued). */
  readonly closed: boolean;
  /**
   * Send one message: text for a string (UTF-8), binary for bytes, unless `isBinary` says
   * otherwise. The bytes are copied as needed, so the caller may reuse them at once.
   * @throws EventLoopError `ERR_INVALID_ARG` for something that is neither a string nor bytes
   */
  send(message: Uint8Array | string, isBinary?: boolean): WebSocketSendStatus;
  /** Send a ping control frame (at most 125 bytes of data). @throws EventLoopError `ERR_INVALID_ARG` */
  ping(data?: Uint8Array | string): WebSocketSendStatus;
  /**
   * Close gracefully: send a close frame with `code` (default 1000) and `reason` (at most 123
   * bytes of UTF-8), then close the connection. The `close` callback runs later, in a poll phase.
   * @throws EventLoopError `ERR_INVALID_ARG` for a code an endpoint may not send (RFC 6455 §7.4:
   * 1000–1003, 1007–1014 and 3000–4999 are allowed) or a reason that is too long
   */
  close(code?: number, reason?: string): void;
  /** Close the connection at once, without a close frame; the `close` callback gets 1006. */
  terminate(): void;
  /** Receive what is published under `topic`; `false` if it was subscribed already (or the socket is closed). */
  subscribe(topic: string): boolean;
  /** Stop receiving `topic`; `false` if it was not subscribed. */
  unsubscribe(topic: string): boolean;
  /** Whether this socket is subscribed to `topic`. */
  isSubscribed(topic: string): boolean;
  /** The topics this socket is subscribed to. */
  topics(): string[];
  /**
   * Send `message` to every socket subscribed to `topic` except this one (text or binary as for
   * `send`). Returns `false` when nothing could be published (the socket is closed).
   */
  publish(topic: string, message: Uint8Array | string, isBinary?: boolean): boolean;
}

/**
 * The decision on an upgrade request, handed to {@link WebSocketBehavior.upgrade}. Decide during
 * the callback or any time later (after an asynchronous check); the first decision counts, later
 * ones and decisions after the client left (`aborted`) do nothing.
 */
export interface WebSocketUpgrade<UserData = unknown> {
  /**
   * Accept: answer 101 and open the socket with `data` as its {@link WebSocket.data}. `protocol`
   * is the subprotocol chosen among those the client offered (`sec-websocket-protocol`).
   */
  accept(data: UserData, protocol?: string): void;
  /** Refuse with `status` (400–599) and an optional short text body, then close the connection. */
  reject(status: number, body?: string): void;
  /** `true` once the client went away before a decision. */
  readonly aborted: boolean;
}

/**
 * WebSocket support for an HTTP server: pass it as `serveHttp({ websocket })`. A GET request
 * with `Upgrade: websocket` goes to {@link WebSocketBehavior.upgrade} (every path; decide there),
 * every other request to the HTTP handler.
 *
 * Every callback runs in the poll phase; an exception it throws goes to the loop's error handler
 * and closes that socket with 1011 (internal error). Data passed to `message`, `ping` and `pong`
 * is borrowed: valid during the callback only, so copy it (`Buffer.from(data)`) to keep it.
 *
 * The numbers are what the server asks for; the backend may round them to what it can do, and
 * {@link WebSocketServer} reports the values in force.
 */
export interface WebSocketBehavior<UserData = unknown> {
  /**
   * Largest message accepted, in bytes; a bigger one closes the socket, and its `close` callback
   * gets 1009 (message too big). The client gets a 1009 close frame, or, on a backend that drops
   * the connection at once (uWS), none. Default 16 KiB.
   */
  readonly maxPayloadLength?: number;
  /**
   * ms without any frame from the client after which the socket is closed; 0 never closes it.
   * The server pings an idle client before that, and a client's pong counts. Default 120 s.
   */
  readonly idleTimeout?: number;
  /**
   * Bytes a socket may have queued; a message sent past it is dropped (`'dropped'`). Default 64 KiB.
   */
  readonly maxBackpressure?: number;
  /**
   * Decide on an upgrade. The request is the {@link HttpRequest} of a handler, with its lifetime:
   * read what you need during this call (or `snapshot()` it). Without this callback every
   * upgrade is accepted with `undefined` data.
   */
  upgrade?(request: HttpRequest, upgrade: WebSocketUpgrade<UserData>): void;
  /** The socket is open; the first callback of a socket. */
  open?(socket: WebSocket<UserData>): void;
  /** A whole message arrived (fragments are joined); `data` is borrowed. */
  message?(socket: WebSocket<UserData>, data: Uint8Array, isBinary: boolean): void;
  /** The socket's buffer drained after a send returned `'buffered'`: sending may go on. */
  drain?(socket: WebSocket<UserData>): void;
  /** The client sent a ping (the pong is sent for you); `data` is borrowed. */
  ping?(socket: WebSocket<UserData>, data: Uint8Array): void;
  /** The client answered a ping; `data` is borrowed. */
  pong?(socket: WebSocket<UserData>, data: Uint8Array): void;
  /**
   * The socket closed, whichever side closed it; the last callback of a socket, run once. `code`
   * is the close frame's (1005 when it had none, 1006 when the connection dropped without one,
   * 1001 when `server.close()` ended it); `reason` is its text.
   */
  close?(socket: WebSocket<UserData>, code: number, reason: string): void;
}

/** The WebSocket side of an {@link HttpServer} served with `serveHttp({ websocket })`. */
export interface WebSocketServer {
  /** The largest message accepted, in bytes (the option as the backend applies it). */
  readonly maxPayloadLength: number;
  /** The idle timeout in force, in ms (0: none). */
  readonly idleTimeout: number;
  /** The per-socket buffer limit in force, in bytes. */
  readonly maxBackpressure: number;
  /** Send `message` to every socket of this server subscribed to `topic`; `false` if the server is closed. */
  publish(topic: string, message: Uint8Array | string, isBinary?: boolean): boolean;
  /** How many sockets of this server are subscribed to `topic`. */
  subscriberCount(topic: string): number;
}

/** Close codes an endpoint may send in a close frame (RFC 6455 §7.4.1, §7.4.2). */
export function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  );
}
