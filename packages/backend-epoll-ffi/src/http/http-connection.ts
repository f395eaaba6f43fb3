import type { SocketAddress } from '@loop/core';
import { checkRequestHead, HEAD_OK_WITH_BODY, sameHeaderName } from '@loop/core/kit';
import { EAGAIN, EINTR, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP, MSG_NOSIGNAL, SHUT_WR } from '../constants.js';
import type { EpollLoop } from '../epoll-loop.js';
import type { FastBuffer } from '../fast-buffer.js';
import type { FdHandler } from '../fd-handler.js';
import { decodeSockaddr, SOCKADDR_SIZE } from '../sockaddr.js';
import { socketError } from '../tcp-stream.js';
import { WriteQueue } from '../write-queue.js';
import { HAS_CONNECTION, HAS_DATE, SAYS_CLOSE } from './response-head.js';
import { HttpExchange } from './http-exchange.js';
import type { EpollHttpServer } from './http-server.js';
import type { NodeHttpParser, ParseError } from './llhttp.js';
import { DECLINED, type SimpleRequest } from './simple-request.js';

// Where the connection is in reading requests.
const IDLE = 0; // between requests: the keep-alive timeout runs
const HEAD = 1; // a request's first bytes arrived: the headers timeout runs
const BUSY = 2; // a request is being handled: no timeout (the handler may take its time)

// Why reading is paused (bits).
const PAUSE_BODY = 1; // request.pause()
const PAUSE_PIPELINE = 2; // too many requests wait for their responses

/** Pipelined requests answered out of turn are buffered; past this many the connection stops reading. */
const MAX_PIPELINE = 32;
/** After our FIN, how long we read and discard while waiting for the client's (so no RST eats our last response). */
const LINGER_MS = 2000;

const EMPTY: string[] = [];

/**
 * One HTTP/1.1 connection on a raw socket: llhttp parses what `read(2)` brings, the handler runs
 * from the parser's callback, and responses are written into the loop's output buffer ("corked"
 * for as long as one read is being parsed) and leave with one `send(2)` per read. Nothing on the
 * path of a keep-alive request that is answered at once allocates a Buffer or calls epoll_ctl:
 * the chunk handed to the parser is a cached view of the loop's read buffer, which the next read
 * reuses (llhttp copies what it keeps).
 *
 * The connection is not a handle of its own: its server is, and stays alive until its last
 * connection is gone.
 */
export class HttpConnection implements FdHandler {
  token = 0;
  readonly loop: EpollLoop;
  readonly highWaterMark = 64 * 1024;
  /** The loop time at which {@link sweep} acts (keep-alive, headers or linger timeout). */
  deadline: number;
  private state = IDLE;
  private readonly exchanges: HttpExchange[] = [];
  /** The exchange whose request (body) llhttp is still reading. */
  private current: HttpExchange | undefined;
  private readonly queue = new WriteQueue();
  private fdOpen = true;
  private corked = false;
  private regionStart = 0;
  private interest = 0;
  private pauses = 0;
  /** Edge-triggered: readiness seen while not reading. */
  private readable = false;
  private readQueued = false;
  /** Level-triggered: EPOLLHUP while not reading, the fd left epoll (HUP cannot be masked). */
  private hungUp = false;
  /** No more requests are parsed: a response said Connection: close, or input was refused. */
  private stopped = false;
  /** Our FIN is out; input is read and dropped until the client's FIN or the linger deadline. */
  private lingering = false;
  /** Close (FIN) once the queue drains. */
  private closeWhenDrained = false;
  private peerEnded = false;
  /** llhttp is inside a message (a head split across reads, a body still coming): reads go to it. */
  private llhttpBusy = false;
  private pendingHeaders: string[] | undefined;
  private pendingUrl = '';
  private remote: SocketAddress | undefined;
  /** Exchanges whose last bytes are queued: over once the queue drains. */
  private unsent: HttpExchange[] | undefined;

  constructor(
    readonly server: EpollHttpServer,
    readonly fd: number,
    private readonly parser: NodeHttpParser,
  ) {
    this.loop = server.loop;
    this.deadline = this.loop.now() + server.limits.keepAliveTimeout;
    parser.owner = this;
  }

  /**
   * Register the fd: EPOLLIN|EPOLLRDHUP for good level-triggered (EPOLLOUT only under backpressure),
   * or everything once edge-triggered. Returns 0 or the errno.
   */
  start(): number {
    const loop = this.loop;
    if (!loop.claim(this.fd, this)) return 17; // EEXIST: cannot happen for a freshly accepted fd
    // Edge-triggered, EPOLLOUT is added the first time a response has to wait (see syncInterest):
    // registered from the start, a fresh socket's writability would be a wake-up for nothing.
    this.interest = EPOLLIN | EPOLLRDHUP | (loop.edgeFlag !== 0 ? EPOLLET : 0);
    return loop.watch(this.fd, this, this.interest);
  }

  // ---- input ----

  ioEvent(events: number): void {
    if ((events & EPOLLERR) !== 0) {
      const error = socketError(this.loop, this.fd);
      if (error !== 0) {
        this.closeNow();
        return;
      }
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) !== 0) {
      if (this.readingWanted()) {
        this.readSome(events);
      } else if (this.loop.edgeFlag !== 0) {
        this.readable = true;
      } else if ((events & EPOLLHUP) !== 0 && this.fdOpen) {
        this.hungUp = true;
        this.loop.unwatch(this.fd, this);
      }
    }
    if ((events & EPOLLOUT) !== 0 && this.queue.size > 0 && this.fdOpen) this.flush();
  }

  private readingWanted(): boolean {
    return this.fdOpen && !this.peerEnded && (this.pauses === 0 || this.lingering);
  }

  /** Level-triggered: one read per event. Edge-triggered: to EAGAIN or a short read (see EpollTcpStream). */
  private readSome(events: number): void {
    const loop = this.loop;
    const libc = loop.libc;
    const buffer = loop.readBuffer;
    const drain = loop.edgeFlag !== 0 || this.hungUp;
    const toEof = this.hungUp || (events & (EPOLLRDHUP | EPOLLHUP)) !== 0;
    this.readable = false;
    for (;;) {
      const n = libc.read(this.fd, buffer, buffer.length);
      if (n > 0) {
        if (!this.lingering && !this.stopped) this.parse(loop.chunk(n));
        if (!this.readingWanted()) {
          if (drain && this.fdOpen) this.readable = true;
          return;
        }
        if (!drain && !toEof) return;
        if (n < buffer.length && !toEof) return;
        continue;
      }
      if (n === 0) {
        this.onEof();
        return;
      }
      const errno = libc.errno();
      if (errno === EINTR) continue;
      if (errno !== EAGAIN) this.closeNow();
      return;
    }
  }

  /** Feed one read to llhttp, with output corked: what the handlers answer leaves in one send. */
  private parse(chunk: Buffer): void {
    const loop = this.loop;
    if (this.state === IDLE) {
      this.state = HEAD;
      this.deadline = loop.now() + this.server.limits.headersTimeout;
    }
    this.corked = true;
    this.regionStart = loop.outLength;
    try {
      let at = 0;
      const length = chunk.length;
      if (!this.llhttpBusy && this.server.fastPath) {
        // The fast path, one complete request at a time, while llhttp is between messages.
        const server = this.server;
        const request = server.simpleRequest;
        while (at < length && !this.stopped) {
          const next = server.simple.parse(chunk, at, length, server.maxHeaderSize, request);
          if (next === DECLINED) break;
          this.onSimple(request, chunk);
          at = next;
        }
      }
      if (at < length && !this.stopped) {
        const parsed = this.parser.execute(at === 0 ? chunk : chunk.subarray(at));
        // Still corked: the refusal goes out after the answers to the requests before it.
        if (typeof parsed !== 'number') this.parseFailed(parsed);
      }
    } finally {
      this.corked = false;
    }
    this.flushRegion();
    this.settleUnsent();
    if (this.closeWhenDrained && this.queue.size === 0) this.gracefulClose();
  }

  private onEof(): void {
    this.peerEnded = true;
    if (this.lingering) {
      this.closeNow();
      return;
    }
    // The client half-closed: as node:http (httpAllowHalfOpen false), what is unanswered is aborted.
    // Answers already made still go out before the connection closes.
    if (this.current === undefined && this.exchanges.length === 0 && this.queue.size > 0) {
      this.stopped = true;
      this.closeWhenDrained = true;
      // Level-triggered, the EOF stays readable: keep EPOLLIN and every epoll_wait would return at once
      // until the client reads the rest (a busy spin). Only EPOLLOUT is wanted from now on.
      this.syncInterest();
      return;
    }
    this.closeNow();
  }

  // ---- llhttp's callbacks (see http-server.ts) ----

  /** A request's headers are complete: check them, make the exchange, run the handler. */
  onHead(major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined, upgrade: boolean, keepAlive: boolean): number {
    let raw = headers ?? EMPTY;
    let target = url ?? '';
    if (this.pendingHeaders !== undefined) {
      // More than 32 header lines, or a head split across reads: llhttp flushed part of it earlier.
      raw = headers === undefined ? this.pendingHeaders : this.pendingHeaders.concat(headers);
      target = this.pendingUrl + target;
      this.pendingHeaders = undefined;
      this.pendingUrl = '';
    }
    if (this.stopped) return 0;
    this.state = BUSY;
    this.deadline = Infinity;
    const server = this.server;
    // llhttp accepts HTTP/0.9 request lines ("GET /") and any major version; RFC 9112 does not.
    if (major !== 1 || (minor !== 0 && minor !== 1)) {
      this.refuse(major === 0 ? 400 : 505);
      return 0;
    }
    const checked = checkRequestHead(server.limits, target, raw);
    if (checked > HEAD_OK_WITH_BODY) {
      this.refuse(checked);
      return 0;
    }
    // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host (node:http's requireHostHeader too).
    if (minor === 1 && hostLines(raw) !== 1) {
      this.refuse(400);
      return 0;
    }
    const name = server.methods[method] ?? 'UNKNOWN';
    const exchange = new HttpExchange(this, name, target, minor === 1 ? '1.1' : '1.0', raw, keepAlive && !upgrade, name === 'HEAD', minor === 0);
    this.exchanges.push(exchange);
    this.current = exchange;
    if (checked === HEAD_OK_WITH_BODY && minor === 1 && this.exchanges[0] === exchange && expectsContinue(raw)) {
      this.output(exchange, 'HTTP/1.1 100 Continue\r\n\r\n', undefined, undefined, false);
    }
    server.dispatch(exchange);
    // An upgrade (or CONNECT) hands the rest of the stream to another protocol: not ours.
    if (upgrade) this.stopped = true;
    if (this.exchanges.length >= MAX_PIPELINE && (this.pauses & PAUSE_PIPELINE) === 0) {
      this.pauses |= PAUSE_PIPELINE;
      this.syncInterest();
    }
    return 0;
  }

  /** A request the fast path read in full: the same steps as llhttp's callbacks. */
  private onSimple(request: SimpleRequest, chunk: Buffer): void {
    this.onHead(1, request.minor, request.headers, request.method, request.url, false, request.keepAlive);
    if (request.bodyLength > 0 && this.current !== undefined) {
      this.current.body(chunk.subarray(request.bodyStart, request.bodyStart + request.bodyLength), true);
    }
    this.onComplete();
  }

  /** llhttp started a message: until it completes, every read goes to llhttp. */
  onBegin(): void {
    this.llhttpBusy = true;
  }

  /** llhttp flushed part of a long or split head (never trailers: those come while BUSY, and are dropped). */
  onPartialHead(headers: string[], url: string): void {
    if (this.state === BUSY) return;
    this.pendingHeaders = this.pendingHeaders === undefined ? headers.slice() : this.pendingHeaders.concat(headers);
    this.pendingUrl += url;
  }

  onBody(chunk: Buffer): void {
    if (this.stopped && this.current === undefined) return;
    this.current?.body(chunk, false);
  }

  onComplete(): void {
    this.llhttpBusy = false;
    const exchange = this.current;
    this.current = undefined;
    if (this.state === BUSY) this.state = IDLE;
    if (exchange !== undefined) exchange.complete();
    if (this.exchanges.length === 0 && this.fdOpen) this.becomeIdle();
  }

  private parseFailed(error: ParseError): void {
    this.refuse(error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400);
  }

  /** Answer `status` in turn (after the responses still owed) and close the connection after it. */
  private refuse(status: number): void {
    if (this.stopped) return;
    const current = this.current;
    this.current = undefined;
    if (current !== undefined && !current.headersSent) {
      current.sendError(status);
    } else {
      const refusal = new HttpExchange(this, '', '', '1.1', EMPTY, false, false, false);
      refusal.request.live = false;
      this.exchanges.push(refusal);
      refusal.sendError(status);
    }
    this.stopped = true;
  }

  /** A chunked body went over maxBodySize. */
  refuseBody(exchange: HttpExchange): void {
    if (this.current === exchange) this.current = undefined;
    this.stopped = true;
    if (!exchange.headersSent) exchange.sendError(413);
    else this.abortAfterFailure();
  }

  /** A handler failed after its response started: the framing cannot be trusted, the connection closes now. */
  abortAfterFailure(): void {
    this.stopped = true;
    this.loop.deliver(this.closeNow, this, undefined);
  }

  // ---- output ----

  /**
   * Hand the bytes of `exchange`'s response to the socket: `prefix` (latin1: a head, a chunk size),
   * `body`, `suffix` (latin1). While the exchange is not the oldest unanswered one, they are kept
   * (copied) until its turn. `last` finishes the exchange.
   */
  output(exchange: HttpExchange, prefix: string | undefined, body: Uint8Array | string | undefined, suffix: string | undefined, last: boolean): void {
    if (!this.fdOpen) return;
    if (this.exchanges[0] !== exchange) {
      // Not its turn yet: keep owned copies (the caller may reuse its buffers after this call).
      const pending = (exchange.pending ??= []);
      if (prefix !== undefined) pending.push(Buffer.from(prefix, 'latin1'));
      if (body !== undefined) pending.push(typeof body === 'string' ? Buffer.from(body) : Buffer.from(body));
      if (suffix !== undefined) pending.push(Buffer.from(suffix, 'latin1'));
      let bytes = 0;
      for (const chunk of pending) bytes += chunk.length;
      exchange.pendingBytes = bytes;
      return;
    }
    if (!this.corked) this.regionStart = this.loop.outLength;
    if (prefix !== undefined) this.putLatin1(prefix);
    if (body !== undefined) {
      if (typeof body === 'string') this.putUtf8(body);
      else this.putBytes(body);
    }
    if (suffix !== undefined) this.putLatin1(suffix);
    if (!this.corked) this.flushRegion();
    if (last) this.advance();
  }

  /** Bytes this exchange has waiting: its own buffer before its turn, the connection's queue after. */
  backlogFor(exchange: HttpExchange): number {
    return this.exchanges[0] === exchange ? this.queue.size : exchange.pendingBytes;
  }

  /** The oldest exchange finished: the next one's turn (its buffered output goes out), and so on. */
  private advance(): void {
    const exchanges = this.exchanges;
    for (;;) {
      const done = exchanges.shift() as HttpExchange;
      this.sent(done);
      if (done.closeAfter) {
        this.stopAfter();
        return;
      }
      const next = exchanges[0];
      if (next === undefined) break;
      const pending = next.pending;
      if (pending !== undefined) {
        next.pending = undefined;
        next.pendingBytes = 0;
        if (!this.corked) this.regionStart = this.loop.outLength;
        for (const chunk of pending) this.putBytes(chunk);
        if (!this.corked) this.flushRegion();
      }
      if (!next.finished) break;
    }
    if ((this.pauses & PAUSE_PIPELINE) !== 0 && exchanges.length < MAX_PIPELINE) {
      this.pauses &= ~PAUSE_PIPELINE;
      this.syncInterest();
    }
    if (exchanges.length === 0 && this.current === undefined && this.state !== HEAD) this.becomeIdle();
  }

  /** `exchange`'s last byte was handed over: it is over once nothing of it waits (corked or queued). */
  private sent(exchange: HttpExchange): void {
    if (this.queue.size === 0 && !this.corked) exchange.markOver();
    else (this.unsent ??= []).push(exchange);
  }

  /** Exchanges whose bytes were waiting are over once the output buffer went out and the queue is empty. */
  private settleUnsent(): void {
    const unsent = this.unsent;
    if (unsent === undefined || this.queue.size > 0 || this.corked) return;
    this.unsent = undefined;
    for (const exchange of unsent) exchange.markOver();
  }

  /** A response said Connection: close: nothing after it is answered; the connection closes once it is out. */
  private stopAfter(): void {
    this.stopped = true;
    this.current = undefined;
    // Requests pipelined behind it were handled but will not be answered.
    for (const exchange of this.exchanges.splice(0)) this.detach(exchange);
    this.gracefulClose();
  }

  private becomeIdle(): void {
    if (this.stopped || this.server.closing) {
      this.gracefulClose();
      return;
    }
    this.state = IDLE;
    this.deadline = this.loop.now() + this.server.limits.keepAliveTimeout;
  }

  /** `Date` and `Connection` lines plus the blank line, and the keep-alive verdict for `exchange`. */
  connectionLines(exchange: HttpExchange, flags: number): string {
    const server = this.server;
    const keep = exchange.keepAlive && !exchange.closeAfter && !server.closing && (flags & SAYS_CLOSE) === 0;
    if (!keep) exchange.closeAfter = true;
    if (keep && (flags & (HAS_DATE | HAS_CONNECTION)) === 0) return server.keepAliveTail();
    const date = (flags & HAS_DATE) === 0 ? server.dateLine() : '';
    if ((flags & HAS_CONNECTION) !== 0) return `${date}\r\n`;
    return keep ? `${date}${server.keepAliveLines}` : `${date}Connection: close\r\n\r\n`;
  }

  private putLatin1(text: string): void {
    const loop = this.loop;
    const out = loop.out as FastBuffer;
    if (loop.outLength + text.length > out.length) {
      this.flushRegion();
      if (text.length > out.length - loop.outLength) {
        this.sendBytes(Buffer.from(text, 'latin1'), 0, text.length);
        return;
      }
    }
    loop.outLength += out.latin1Write(text, loop.outLength);
  }

  private putUtf8(text: string): void {
    const loop = this.loop;
    const out = loop.out as FastBuffer;
    const most = text.length * 3;
    if (loop.outLength + most > out.length) {
      this.flushRegion();
      if (most > out.length - loop.outLength) {
        const bytes = Buffer.from(text);
        this.sendBytes(bytes, 0, bytes.length);
        return;
      }
    }
    loop.outLength += out.utf8Write(text, loop.outLength);
  }

  private putBytes(bytes: Uint8Array): void {
    const loop = this.loop;
    const length = bytes.byteLength;
    // A large body goes out from the caller's memory, not through a copy.
    if (length > 16 * 1024 || loop.outLength + length > loop.out.length) {
      this.flushRegion();
      if (length > 16 * 1024 || length > loop.out.length - loop.outLength) {
        this.sendBytes(bytes, 0, length);
        return;
      }
    }
    loop.out.set(bytes, loop.outLength);
    loop.outLength += length;
  }

  /** Send this connection's part of the loop's output buffer (it may sit above another connection's corked part). */
  private flushRegion(): void {
    const loop = this.loop;
    const from = this.regionStart;
    const to = loop.outLength;
    loop.outLength = from;
    if (to > from) this.sendBytes(loop.out, from, to);
  }

  /** send(2) what the socket takes now; queue a copy of the rest (and watch for EPOLLOUT). */
  private sendBytes(bytes: Uint8Array, from: number, to: number): void {
    if (!this.fdOpen) return;
    if (this.queue.size > 0) {
      this.queue.push(bytes, from, to);
      return;
    }
    const libc = this.loop.libc;
    const view = from === 0 ? bytes : bytes.subarray(from, to);
    let sent: number;
    for (;;) {
      sent = libc.send(this.fd, view, to - from, MSG_NOSIGNAL);
      if (sent >= 0) break;
      const errno = libc.errno();
      if (errno === EINTR) continue;
      if (errno === EAGAIN) {
        sent = 0;
        break;
      }
      // EPIPE, ECONNRESET: the client is gone. This may run inside user code: close in the next tick.
      this.stopped = true;
      this.loop.deliver(this.closeNow, this, undefined);
      return;
    }
    if (from + sent < to) {
      this.queue.push(bytes, from + sent, to);
      this.syncInterest();
    }
  }

  private flush(): void {
    if (this.queue.flush(this.loop.libc, this.fd, this.loop.iov) !== 0) {
      this.closeNow();
      return;
    }
    if (this.queue.size > 0) return;
    this.syncInterest();
    this.settleUnsent();
    this.exchanges[0]?.drained();
    if (this.closeWhenDrained && this.queue.size === 0) this.gracefulClose();
  }

  // ---- flow control ----

  /** request.pause(): stop reading the socket (TCP pushes back on the client). */
  pauseReading(): void {
    if ((this.pauses & PAUSE_BODY) !== 0) return;
    this.pauses |= PAUSE_BODY;
    this.syncInterest();
  }

  resumeReading(): void {
    if ((this.pauses & PAUSE_BODY) === 0) return;
    this.pauses &= ~PAUSE_BODY;
    this.syncInterest();
  }

  private syncInterest(): void {
    if (!this.fdOpen) return;
    const loop = this.loop;
    if (loop.edgeFlag !== 0 || this.hungUp) {
      if ((this.readable || this.hungUp) && this.readingWanted() && !this.readQueued) {
        this.readQueued = true;
        loop.deliver(this.readLater, this, undefined);
      }
      // Edge-triggered, EPOLLOUT joins once and stays: after it, an idle socket brings no edges.
      if (loop.edgeFlag !== 0 && this.queue.size > 0 && (this.interest & EPOLLOUT) === 0) {
        this.interest |= EPOLLOUT;
        if (loop.rewatch(this.fd, this, this.interest) !== 0) {
          this.stopped = true;
          loop.deliver(this.closeNow, this, undefined);
        }
      }
      return;
    }
    const wanted = (this.readingWanted() ? EPOLLIN | EPOLLRDHUP : 0) | (this.queue.size > 0 ? EPOLLOUT : 0);
    if (wanted === this.interest) return;
    this.interest = wanted;
    if (loop.rewatch(this.fd, this, wanted) !== 0) {
      this.stopped = true;
      loop.deliver(this.closeNow, this, undefined);
    }
  }

  private readLater(): void {
    this.readQueued = false;
    if (this.readingWanted()) this.readSome(EPOLLIN);
  }

  // ---- closing ----

  /** server.close(): an idle connection (no request under way) closes now; a busy one after its responses. */
  serverClosing(): void {
    if (this.exchanges.length === 0 && this.current === undefined) this.gracefulClose();
  }

  /** Timeouts, checked by the server's sweep in the timer phase. */
  sweep(now: number): void {
    if (now < this.deadline || !this.fdOpen) return;
    if (this.lingering) this.closeNow();
    else if (this.state === HEAD) this.refuse(408);
    else if (this.state === IDLE && this.exchanges.length === 0) this.gracefulClose();
  }

  /** Send FIN once everything queued is out, then read and drop input until the client's FIN (or LINGER_MS). */
  private gracefulClose(): void {
    if (this.lingering || !this.fdOpen) return;
    this.stopped = true;
    // Output still corked (inside a parse) or queued goes first; the FIN follows it.
    if (this.queue.size > 0 || this.corked) {
      this.closeWhenDrained = true;
      return;
    }
    this.closeWhenDrained = false;
    this.lingering = true;
    this.deadline = this.loop.now() + LINGER_MS;
    this.loop.libc.shutdown(this.fd, SHUT_WR);
    if (this.peerEnded) this.loop.deliver(this.closeNow, this, undefined);
    else this.syncInterest();
  }

  /** Close the fd now. Unfinished exchanges are aborted (their callbacks run in a later poll tick). Safe anywhere. */
  closeNow(): void {
    if (!this.fdOpen) return;
    this.fdOpen = false;
    const loop = this.loop;
    loop.release(this.fd, this);
    loop.libc.close(this.fd);
    this.queue.clear();
    const current = this.current;
    this.current = undefined;
    for (const exchange of this.exchanges.splice(0)) this.detach(exchange);
    if (current !== undefined) this.detach(current);
    const unsent = this.unsent;
    this.unsent = undefined;
    if (unsent !== undefined) for (const exchange of unsent) exchange.markOver();
    this.server.connectionGone(this, this.parser);
  }

  /** The client will not get this exchange's response (or the rest of it). */
  private detach(exchange: HttpExchange): void {
    if (exchange.detach()) this.loop.deliver(exchange.runAborted, exchange, undefined);
    exchange.markOver();
  }

  /** The client's endpoint (getpeername once per connection, when asked). */
  remoteAddress(): SocketAddress | undefined {
    if (this.remote === undefined && this.fdOpen) {
      const loop = this.loop;
      loop.addressLength.writeUInt32LE(SOCKADDR_SIZE, 0);
      if (loop.libc.getpeername(this.fd, loop.addressBuffer, loop.addressLength) === 0) this.remote = decodeSockaddr(loop.addressBuffer);
    }
    return this.remote;
  }
}

/** Number of Host lines in `raw`. */
function hostLines(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && sameHeaderName(name, 'host')) count++;
  }
  return count;
}

/** Whether the request asks for `100 Continue` before it sends its body. */
function expectsContinue(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 6 && sameHeaderName(name, 'expect')) return (raw[i + 1] as string).toLowerCase() === '100-continue';
  }
  return false;
}
