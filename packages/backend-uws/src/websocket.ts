import { STATUS_CODES } from 'node:http';
import {
  EventLoopError,
  InvalidArgumentError,
  isSendableCloseCode,
  type SocketAddress,
  type WebSocket,
  type WebSocketBehavior,
  type WebSocketSendStatus,
  type WebSocketServer,
  type WebSocketUpgrade,
} from '@loop/core';
import type {
  HttpRequest as UwsRequest,
  HttpResponse as UwsResponse,
  TemplatedApp,
  us_socket_context_t,
  WebSocket as UwsNativeSocket,
} from '@trufflesuite/uws-js-unofficial';
import { HEAD_OK } from './head-check.js';
import { UwsHttpRequest, type RequestOwner } from './http-request.js';
import { peerText } from './peer-address.js';
import type { UwsHttpServer } from './http-server.js';
import type { UwsLoop } from './uws-loop.js';

/** What a uWS socket carries: uWS.js copies the upgrade's user data onto the socket object. */
interface SocketFields {
  loopData: unknown;
  loopSocket: UwsWebSocket | undefined;
}
type NativeSocket = UwsNativeSocket<SocketFields> & SocketFields;

const DEFAULT_MAX_PAYLOAD = 16 * 1024;
const DEFAULT_IDLE_TIMEOUT = 120_000;
const DEFAULT_MAX_BACKPRESSURE = 64 * 1024;
// uWS refuses (aborting the process) an idle timeout under 8 s other than 0, and counts in whole
// seconds with a 4 s resolution: the ms asked for are rounded up to that.
const MIN_IDLE_SECONDS = 8;
const SEND_STATUS: readonly WebSocketSendStatus[] = ['buffered', 'sent', 'dropped'];
const TOO_BIG = 'Received too big message';

function checkNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new EventLoopError('ERR_INVALID_ARG', `${name} must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function checkMessage(message: unknown): void {
  if (typeof message !== 'string' && !(message instanceof Uint8Array)) {
    throw new InvalidArgumentError(`a message must be a string or a Uint8Array, got ${message === null ? 'null' : typeof message}`);
  }
}

function idleSeconds(ms: number): number {
  if (ms === 0) return 0;
  return Math.max(MIN_IDLE_SECONDS, Math.ceil(ms / 4000) * 4);
}

function peer(text: ArrayBuffer): SocketAddress | undefined {
  const address = peerText(text);
  if (address.length === 0) return undefined;
  return { address, port: 0, family: address.includes(':') ? 'IPv6' : 'IPv4' };
}

/**
 * The WebSocket side of a {@link UwsHttpServer}: one `app.ws('/*')` route whose callbacks follow
 * the same rule as HTTP requests (see {@link UwsLoop}): run inside uWS's call when the loop is
 * polling, else copied and queued. A socket's events keep their order.
 */
export class UwsWebSocketSide implements WebSocketServer {
  readonly maxPayloadLength: number;
  readonly idleTimeout: number;
  readonly maxBackpressure: number;
  readonly loop: UwsLoop;
  private readonly sockets = new Set<UwsWebSocket>();
  private closed = false;

  constructor(
    readonly server: UwsHttpServer,
    private readonly app: TemplatedApp,
    readonly behavior: WebSocketBehavior,
  ) {
    this.loop = server.loop;
    if (typeof behavior !== 'object' || behavior === null) throw new InvalidArgumentError('websocket must be an object of options and callbacks');
    this.maxPayloadLength = checkNumber('websocket.maxPayloadLength', behavior.maxPayloadLength ?? DEFAULT_MAX_PAYLOAD, 1, 2 ** 31 - 1);
    const idle = checkNumber('websocket.idleTimeout', behavior.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, 0, 2 ** 31 - 1);
    this.idleTimeout = idleSeconds(idle) * 1000;
    this.maxBackpressure = checkNumber('websocket.maxBackpressure', behavior.maxBackpressure ?? DEFAULT_MAX_BACKPRESSURE, 1, 2 ** 31 - 1);
    for (const name of ['upgrade', 'open', 'message', 'drain', 'ping', 'pong', 'close'] as const) {
      const callback = behavior[name];
      if (callback !== undefined && typeof callback !== 'function') throw new InvalidArgumentError(`websocket.${name} must be a function`);
    }
    // The handlers take the socket with the fields uWS.js copied onto it from the upgrade.
    app.ws<SocketFields>('/*', {
      maxPayloadLength: this.maxPayloadLength,
      idleTimeout: this.idleTimeout / 1000,
      maxBackpressure: this.maxBackpressure,
      sendPingsAutomatically: true,
      upgrade: this.onUpgrade,
      open: this.onOpen,
      message: this.onMessage,
      drain: this.onDrain,
      ping: this.onPing,
      pong: this.onPong,
      close: this.onClose,
    } as unknown as Parameters<TemplatedApp['ws']>[1]);
  }

  publish(topic: string, message: Uint8Array | string, isBinary?: boolean): boolean {
    checkMessage(message);
    if (this.closed) return false;
    this.loop.nativeDepth++;
    try {
      return this.app.publish(String(topic), message, isBinary ?? typeof message !== 'string', false);
    } finally {
      this.loop.nativeDepth--;
    }
  }

  subscriberCount(topic: string): number {
    return this.closed ? 0 : this.app.numSubscribers(String(topic));
  }

  /** `server.close()`: every open socket is ended with 1001 (going away). */
  closeAll(): void {
    this.closed = true;
    for (const socket of [...this.sockets]) socket.close(1001, 'server closing');
  }

  // ---- uWS's callbacks ----

  private readonly onUpgrade = (res: UwsResponse, req: UwsRequest, context: us_socket_context_t): void => {
    const server = this.server;
    const head = server.checkHead(req);
    if (head > HEAD_OK) {
      server.refuse(res, head === 1 ? 400 : head); // an upgrade request has no body
      return;
    }
    const upgrade = new UwsUpgrade(this, res, context, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-extensions'));
    if (this.closed) {
      upgrade.reject(503, 'the server is closing');
      return;
    }
    const handler = this.behavior.upgrade;
    if (handler === undefined) {
      upgrade.accept(undefined);
      return;
    }
    const direct = this.loop.canRunNow();
    const scanned = server.scanned();
    const request = new UwsHttpRequest(upgrade, req.getCaseSensitiveMethod(), scanned.url, direct ? scanned.raw : scanned.raw.slice());
    if (direct) {
      this.loop.beginDirect();
      upgrade.inCallback = true;
      try {
        this.runUpgrade(upgrade, request);
      } finally {
        upgrade.inCallback = false;
      }
    } else {
      request.keepRemoteAddress();
      this.loop.deliver(this.runQueuedUpgrade, this, { upgrade, request });
    }
    // uWS aborts the process when an upgrade left undecided here has no onAborted.
    if (!upgrade.decided) res.onAborted(upgrade.onAborted);
  };

  private runQueuedUpgrade(entry: { upgrade: UwsUpgrade; request: UwsHttpRequest }): void {
    this.runUpgrade(entry.upgrade, entry.request);
  }

  private runUpgrade(upgrade: UwsUpgrade, request: UwsHttpRequest): void {
    try {
      (this.behavior.upgrade as NonNullable<WebSocketBehavior['upgrade']>)(request, upgrade);
    } catch (error) {
      this.loop.report(error, 'poll');
      upgrade.reject(500, 'Internal Server Error');
    } finally {
      request.expire();
    }
  }

  private readonly onOpen = (ws: NativeSocket): void => {
    const socket = new UwsWebSocket(this, ws, ws.loopData, peer(ws.getRemoteAddressAsText()));
    ws.loopSocket = socket;
    this.sockets.add(socket);
    socket.event(socket.emitOpen, undefined, false);
  };

  private readonly onMessage = (ws: NativeSocket, message: ArrayBuffer, isBinary: boolean): void => {
    const socket = ws.loopSocket;
    if (socket === undefined) return;
    if (socket.canRunNow()) {
      socket.runNow(socket.emitMessage, isBinary ? BINARY : TEXT, new Uint8Array(message));
    } else {
      socket.event(isBinary ? socket.emitBinary : socket.emitText, new Uint8Array(message.slice(0)), false);
    }
  };

  private readonly onDrain = (ws: NativeSocket): void => {
    ws.loopSocket?.event(ws.loopSocket.emitDrain, undefined, true);
  };

  private readonly onPing = (ws: NativeSocket, data: ArrayBuffer): void => {
    const socket = ws.loopSocket;
    if (socket === undefined || this.behavior.ping === undefined) return;
    if (socket.canRunNow()) socket.runNow(socket.emitPing, PING, new Uint8Array(data));
    else socket.event(socket.emitPing, new Uint8Array(data.slice(0)), false);
  };

  private readonly onPong = (ws: NativeSocket, data: ArrayBuffer): void => {
    const socket = ws.loopSocket;
    if (socket === undefined || this.behavior.pong === undefined) return;
    if (socket.canRunNow()) socket.runNow(socket.emitPong, PONG, new Uint8Array(data));
    else socket.event(socket.emitPong, new Uint8Array(data.slice(0)), false);
  };

  private readonly onClose = (ws: NativeSocket, code: number, message: ArrayBuffer): void => {
    const socket = ws.loopSocket;
    if (socket === undefined) return;
    ws.loopSocket = undefined;
    const reason = Buffer.from(message).toString();
    // uWS drops a too-big message's connection without a close frame and reports 1006.
    socket.closedByUws(code === 1006 && reason === TOO_BIG ? 1009 : code, reason);
    this.sockets.delete(socket);
  };
}

const TEXT = 0;
const BINARY = 1;
const PING = 2;
const PONG = 3;

/** {@link WebSocketUpgrade} over uWS's upgrade callback; also the owner of its request. */
class UwsUpgrade implements WebSocketUpgrade<unknown>, RequestOwner {
  decided = false;
  aborted = false;
  /** uWS's upgrade callback for this request is running: its answer needs no cork. */
  inCallback = false;
  private remote: SocketAddress | undefined | null = null;
  readonly onAborted = (): void => {
    this.aborted = true;
  };

  constructor(
    private readonly side: UwsWebSocketSide,
    private readonly res: UwsResponse,
    private readonly context: us_socket_context_t,
    private readonly key: string,
    private readonly extensions: string,
  ) {}

  accept(data: unknown, protocol?: string): void {
    if (this.decided || this.aborted) return;
    if (protocol !== undefined && (typeof protocol !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol))) {
      throw new EventLoopError('ERR_INVALID_ARG', `protocol must be a token, got ${JSON.stringify(protocol)}`);
    }
    this.decided = true;
    const fields: SocketFields = { loopData: data, loopSocket: undefined };
    // Extensions are not negotiated: this uWS build has no permessage-deflate.
    void this.extensions;
    this.answer(() => this.res.upgrade(fields, this.key, protocol ?? '', '', this.context));
  }

  reject(status: number, body = ''): void {
    if (this.decided || this.aborted) return;
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new EventLoopError('ERR_INVALID_ARG', `status must be an integer in [400, 599], got ${String(status)}`);
    this.decided = true;
    const text = String(body);
    this.answer(() => {
      this.res.writeStatus(`${status} ${STATUS_CODES[status] ?? 'Error'}`).writeHeader('Content-Type', 'text/plain').end(text, true);
    });
  }

  pauseBody(): void {}
  resumeBody(): void {}

  remoteAddress(): SocketAddress | undefined {
    if (this.remote === null) this.remote = this.aborted || this.decided ? undefined : peer(this.res.getRemoteAddressAsText());
    return this.remote;
  }

  private answer(fn: () => void): void {
    const loop = this.side.loop;
    loop.nativeDepth++; // uWS calls `open` from inside upgrade(): that is inside user code
    try {
      if (this.inCallback) fn();
      else this.res.cork(fn);
    } finally {
      loop.nativeDepth--;
    }
  }
}

/** {@link WebSocket} over a uWS socket; `ws` is dropped when uWS closes it (uWS invalidates it then). */
class UwsWebSocket implements WebSocket<unknown> {
  /** Queued events of this socket not run yet: later ones queue behind them. */
  queued = 0;
  private ws: NativeSocket | undefined;
  private readonly loop: UwsLoop;
  private readonly behavior: WebSocketBehavior;
  private pending: unknown[] | undefined;
  private closeCode = 1006;
  private closeReason = '';

  constructor(
    private readonly side: UwsWebSocketSide,
    ws: NativeSocket,
    readonly data: unknown,
    readonly remoteAddress: SocketAddress | undefined,
  ) {
    this.ws = ws;
    this.loop = side.loop;
    this.behavior = side.behavior;
  }

  get closed(): boolean {
    return this.ws === undefined;
  }

  get bufferedAmount(): number {
    return this.ws === undefined ? 0 : this.ws.getBufferedAmount();
  }

  send(message: Uint8Array | string, isBinary?: boolean): WebSocketSendStatus {
    checkMessage(message);
    const ws = this.ws;
    if (ws === undefined) return 'dropped';
    this.loop.nativeDepth++;
    try {
      return SEND_STATUS[ws.send(message, isBinary ?? typeof message !== 'string', false)] ?? 'dropped';
    } finally {
      this.loop.nativeDepth--;
    }
  }

  ping(data: Uint8Array | string = ''): WebSocketSendStatus {
    checkMessage(data);
    if ((typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength) > 125) {
      throw new EventLoopError('ERR_INVALID_ARG', 'a ping carries at most 125 bytes');
    }
    const ws = this.ws;
    if (ws === undefined) return 'dropped';
    this.loop.nativeDepth++;
    try {
      return SEND_STATUS[ws.ping(data)] ?? 'dropped';
    } finally {
      this.loop.nativeDepth--;
    }
  }

  close(code = 1000, reason = ''): void {
    if (!isSendableCloseCode(code)) throw new EventLoopError('ERR_INVALID_ARG', `close code ${String(code)} may not be sent (RFC 6455 §7.4)`);
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) throw new EventLoopError('ERR_INVALID_ARG', 'a close reason is a string of at most 123 bytes');
    const ws = this.ws;
    if (ws === undefined) return;
    this.loop.nativeDepth++; // uWS runs the close callback from inside end()
    try {
      ws.end(code, reason);
    } finally {
      this.loop.nativeDepth--;
    }
  }

  terminate(): void {
    const ws = this.ws;
    if (ws === undefined) return;
    this.loop.nativeDepth++;
    try {
      ws.close();
    } finally {
      this.loop.nativeDepth--;
    }
  }

  subscribe(topic: string): boolean {
    return this.ws === undefined ? false : this.ws.subscribe(String(topic));
  }

  unsubscribe(topic: string): boolean {
    return this.ws === undefined ? false : this.ws.unsubscribe(String(topic));
  }

  isSubscribed(topic: string): boolean {
    return this.ws === undefined ? false : this.ws.isSubscribed(String(topic));
  }

  topics(): string[] {
    return this.ws === undefined ? [] : this.ws.getTopics();
  }

  publish(topic: string, message: Uint8Array | string, isBinary?: boolean): boolean {
    checkMessage(message);
    const ws = this.ws;
    if (ws === undefined) return false;
    this.loop.nativeDepth++;
    try {
      return ws.publish(String(topic), message, isBinary ?? typeof message !== 'string', false);
    } finally {
      this.loop.nativeDepth--;
    }
  }

  // ---- events ----

  /** May a borrowed event run its callback inside uWS's call now? */
  canRunNow(): boolean {
    return this.queued === 0 && this.loop.canRunNow();
  }

  /** Run a borrowed event's callback inside uWS's call (see {@link canRunNow}). */
  runNow(fn: (this: UwsWebSocket, kind: number, data: Uint8Array) => void, kind: number, data: Uint8Array): void {
    this.loop.beginDirect();
    fn.call(this, kind, data);
  }

  /** Queue an event behind this socket's others (or run it now when `direct` allows and nothing waits). */
  event<A>(fn: (this: UwsWebSocket, arg: A) => void, arg: A, direct: boolean): void {
    if (direct && this.canRunNow()) {
      this.loop.beginDirect();
      fn.call(this, arg);
      return;
    }
    (this.pending ??= []).push(fn, arg);
    this.queued++;
    this.loop.deliver(this.runNext, this, undefined);
  }

  private runNext(): void {
    const pending = this.pending as unknown[];
    const fn = pending.shift() as (this: UwsWebSocket, arg: unknown) => void;
    const arg = pending.shift();
    this.queued--;
    fn.call(this, arg);
  }

  /** uWS closed the socket (either side, or a timeout): it may no longer be touched. */
  closedByUws(code: number, reason: string): void {
    this.ws = undefined;
    this.closeCode = code;
    this.closeReason = reason;
    this.event(this.emitClose, undefined, false);
  }

  // Each emit calls its callback in a try block of its own: no closure is made per event.

  emitOpen(): void {
    const open = this.behavior.open;
    if (open === undefined) return;
    try {
      open(this);
    } catch (error) {
      this.failed(error);
    }
  }

  emitMessage(kind: number, data: Uint8Array): void {
    const message = this.behavior.message;
    if (message === undefined) return;
    try {
      message(this, data, kind === BINARY);
    } catch (error) {
      this.failed(error);
    }
  }

  emitText(data: Uint8Array): void {
    this.emitMessage(TEXT, data);
  }

  emitBinary(data: Uint8Array): void {
    this.emitMessage(BINARY, data);
  }

  /** Called as `(PING, data)` when run at once, or `(data)` when queued. */
  emitPing(kindOrData: number | Uint8Array, data?: Uint8Array): void {
    const ping = this.behavior.ping;
    if (ping === undefined) return;
    try {
      ping(this, (data ?? kindOrData) as Uint8Array);
    } catch (error) {
      this.failed(error);
    }
  }

  /** Called as `(PONG, data)` when run at once, or `(data)` when queued. */
  emitPong(kindOrData: number | Uint8Array, data?: Uint8Array): void {
    const pong = this.behavior.pong;
    if (pong === undefined) return;
    try {
      pong(this, (data ?? kindOrData) as Uint8Array);
    } catch (error) {
      this.failed(error);
    }
  }

  emitDrain(): void {
    const drain = this.behavior.drain;
    if (drain === undefined) return;
    try {
      drain(this);
    } catch (error) {
      this.failed(error);
    }
  }

  private emitClose(): void {
    const close = this.behavior.close;
    if (close === undefined) return;
    try {
      close(this, this.closeCode, this.closeReason);
    } catch (error) {
      this.loop.report(error, 'poll');
    }
  }

  /** A callback threw: report it and close this socket with 1011 (internal error). */
  private failed(error: unknown): void {
    this.loop.report(error, 'poll');
    this.close(1011, 'internal error');
  }
}
