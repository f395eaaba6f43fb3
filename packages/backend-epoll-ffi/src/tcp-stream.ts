import { SocketError, type EventLoopError, type SocketAddress, type StreamEvents, type TcpStream } from '@loop/core';
import { checkChunk, HandleBase } from '@loop/core/kit';
import {
  EAGAIN,
  EINTR,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  IPPROTO_TCP,
  MSG_NOSIGNAL,
  SHUT_WR,
  SO_ERROR,
  SOL_SOCKET,
  TCP_NODELAY,
} from './constants.js';
import type { EpollLoop } from './epoll-loop.js';
import type { FastBuffer } from './fast-buffer.js';
import type { FdHandler } from './fd-handler.js';
import { systemError } from './libc.js';
import { decodeSockaddr, SOCKADDR_SIZE } from './sockaddr.js';
import { WriteQueue } from './write-queue.js';

/** `write()` returns false once this much is queued (Node's default is 16 KiB; a socket buffer takes more). */
const HIGH_WATER_MARK = 64 * 1024;
/** Strings up to this many UTF-16 units are encoded into the loop's scratch buffer instead of a new Buffer. */
const SCRATCH_STRING = 16 * 1024;

/** The pending error of a socket (SO_ERROR), 0 when none. */
export function socketError(loop: EpollLoop, fd: number): number {
  loop.intBuffer.writeInt32LE(0, 0);
  loop.addressLength.writeUInt32LE(4, 0);
  if (loop.libc.getsockopt(fd, SOL_SOCKET, SO_ERROR, loop.intBuffer, loop.addressLength) !== 0) return loop.libc.errno();
  return loop.intBuffer.readInt32LE(0);
}

/**
 * {@link TcpStream} on a raw non-blocking socket in the loop's epoll set.
 *
 * Level-triggered, the registered events follow what the stream wants: EPOLLIN while it reads (a
 * `data` callback, not paused, no EOF yet), EPOLLOUT while bytes wait in its queue. Each readiness
 * event reads once (64 KiB); what is left is reported by the next epoll_wait. Edge-triggered, the fd
 * is registered once for both and never modified; a read drains until EAGAIN or a short read
 * (a short read from a stream socket means its receive queue was empty at that moment, so the next
 * byte brings a new edge: libuv's rule too), and an edge that arrives while the stream cannot read
 * is remembered and honoured by a read queued for the poll phase when reading resumes.
 */
export class EpollTcpStream extends HandleBase implements TcpStream, FdHandler {
  readonly kind = 'tcp stream';
  token = 0;
  private events: StreamEvents = {};
  private paused = false;
  /** The events registered; -1 (level-triggered) before the first registration. */
  private interest = -1;
  /** Edge-triggered: readiness seen while the stream could not read. */
  private readable = false;
  /** Level-triggered: EPOLLHUP while not reading; the fd left epoll (HUP cannot be masked) until reading resumes. */
  private hungUp = false;
  private readQueued = false;
  private peerEnded = false;
  private writeEnded = false;
  private shutdownDone = false;
  private errored = false;
  private fdOpen = true;
  private needDrain = false;
  private readonly queue = new WriteQueue();
  private closeError: EventLoopError | undefined;
  private local: SocketAddress | undefined;
  private remote: SocketAddress | undefined;

  constructor(
    override readonly loop: EpollLoop,
    readonly fd: number,
  ) {
    super(loop);
    this.activate();
    loop.claim(fd, this);
    if (loop.edgeFlag !== 0) {
      // EPOLLOUT is added the first time a write has to wait: registered from the start, a fresh
      // socket's writability would be one more wake-up for nothing.
      this.interest = EPOLLIN | EPOLLRDHUP | EPOLLET;
      const status = loop.watch(fd, this, this.interest);
      if (status !== 0) this.failLater(status);
    }
  }

  on(events: StreamEvents): this {
    this.events = { ...this.events, ...events };
    this.syncInterest();
    return this;
  }

  get writable(): boolean {
    return !this.writeEnded && !this.errored && !this.isClosing();
  }

  get bufferedAmount(): number {
    return this.queue.size;
  }

  write(data: Uint8Array | string): boolean {
    checkChunk(data);
    if (!this.writable) return false;
    this.send(data);
    if (this.queue.size >= HIGH_WATER_MARK) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  end(data?: Uint8Array | string): void {
    if (data !== undefined) checkChunk(data);
    if (!this.writable) return;
    if (data !== undefined) this.send(data);
    this.writeEnded = true;
    if (this.queue.size === 0 && !this.errored) this.finishWrite();
  }

  pause(): this {
    this.paused = true;
    this.syncInterest();
    return this;
  }

  resume(): this {
    this.paused = false;
    this.syncInterest();
    return this;
  }

  destroy(error?: EventLoopError): void {
    if (error) this.closeError ??= error;
    this.close();
  }

  setNoDelay(noDelay: boolean): this {
    if (!this.fdOpen) return this;
    const value = this.loop.intBuffer;
    value.writeInt32LE(noDelay ? 1 : 0, 0);
    this.loop.libc.setsockopt(this.fd, IPPROTO_TCP, TCP_NODELAY, value, 4);
    return this;
  }

  get localAddress(): SocketAddress | undefined {
    if (!this.fdOpen) return undefined;
    this.local ??= this.address(false);
    return this.local;
  }

  get remoteAddress(): SocketAddress | undefined {
    if (!this.fdOpen) return undefined;
    this.remote ??= this.address(true);
    return this.remote;
  }

  /**
   * After the owner's first callback (onConnection, connect's completion): register even if
   * nothing was asked for, so that a reset is seen, and read both endpoints now. Linux answers
   * getpeername with ENOTCONN once both sides closed, and the contract promises the endpoints for
   * as long as the stream is open.
   */
  settle(): void {
    this.syncInterest();
    if (!this.fdOpen) return;
    this.local ??= this.address(false);
    this.remote ??= this.address(true);
  }

  ioEvent(events: number): void {
    if ((events & EPOLLERR) !== 0) {
      const error = socketError(this.loop, this.fd);
      if (error !== 0) {
        this.fail(error, 'read');
        return;
      }
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) !== 0) {
      if (this.readingWanted()) {
        this.readSome(events);
      } else if (this.events.data === undefined && (events & (EPOLLRDHUP | EPOLLHUP)) !== 0 && !this.peerEnded && this.fdOpen) {
        // Nobody reads this stream: the peer's FIN is all that matters (after our own end(), it
        // closes the stream; node:net notices it the same way, by reading ahead while paused).
        this.onEof();
      } else if (this.loop.edgeFlag !== 0) {
        this.readable = true;
      } else if ((events & EPOLLHUP) !== 0 && this.fdOpen) {
        this.hungUp = true;
        this.loop.unwatch(this.fd, this);
        this.interest = -1;
      }
    }
    if ((events & EPOLLOUT) !== 0 && this.queue.size > 0 && this.fdOpen) this.flush();
  }

  private readingWanted(): boolean {
    return this.events.data !== undefined && !this.paused && !this.peerEnded && this.fdOpen && !this.isClosing();
  }

  /** Read what is there: once per event level-triggered, to EAGAIN or a short read edge-triggered. */
  private readSome(events: number): void {
    const loop = this.loop;
    const libc = loop.libc;
    const buffer = loop.readBuffer;
    const drain = loop.edgeFlag !== 0 || this.hungUp;
    // A hang-up or half-close already happened: read to EOF, a short read proves nothing then.
    const toEof = this.hungUp || (events & (EPOLLRDHUP | EPOLLHUP)) !== 0;
    this.readable = false;
    for (;;) {
      const n = libc.read(this.fd, buffer, buffer.length);
      if (n > 0) {
        this.emitData(loop.chunk(n));
        if (!this.readingWanted()) {
          // Paused or closed from the callback: an edge-triggered fd may have more, remember it.
          if (drain) this.readable = true;
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
      if (errno !== EAGAIN) this.fail(errno, 'read');
      return;
    }
  }

  private emitData(chunk: Buffer): void {
    const data = this.events.data;
    if (data === undefined) return;
    try {
      data(chunk);
    } catch (error) {
      this.loop.report(error, 'poll');
    }
  }

  private onEof(): void {
    this.peerEnded = true;
    this.syncInterest();
    const end = this.events.end;
    if (end !== undefined) {
      try {
        end();
      } catch (error) {
        this.loop.report(error, 'poll');
      }
    }
    // Both directions are done: the stream closes (end() after this closes it too).
    if (this.shutdownDone && this.fdOpen) this.closeFromHost();
  }

  /** Write now what the socket takes, queue a copy of the rest; a failure closes the stream in the next poll tick. */
  private send(data: Uint8Array | string): void {
    let bytes: Uint8Array;
    let length: number;
    if (typeof data === 'string') {
      if (data.length <= SCRATCH_STRING) {
        bytes = this.loop.scratch;
        length = (this.loop.scratch as FastBuffer).utf8Write(data, 0);
      } else {
        bytes = Buffer.from(data);
        length = bytes.length;
      }
    } else {
      bytes = data;
      length = data.byteLength;
    }
    if (length === 0) return;
    if (this.queue.size > 0) {
      this.queue.push(bytes, 0, length);
      return;
    }
    const libc = this.loop.libc;
    let sent: number;
    for (;;) {
      sent = libc.send(this.fd, bytes, length, MSG_NOSIGNAL);
      if (sent >= 0) break;
      const errno = libc.errno();
      if (errno === EINTR) continue;
      if (errno === EAGAIN) {
        sent = 0;
        break;
      }
      this.failLater(errno);
      return;
    }
    if (sent < length) {
      this.queue.push(bytes, sent, length);
      this.syncInterest();
    }
  }

  private flush(): void {
    const errno = this.queue.flush(this.loop.libc, this.fd, this.loop.iov);
    if (errno !== 0) {
      this.fail(errno, 'write');
      return;
    }
    if (this.queue.size > 0) return;
    this.syncInterest();
    if (this.needDrain) {
      this.needDrain = false;
      const drain = this.events.drain;
      if (drain !== undefined) {
        try {
          drain();
        } catch (error) {
          this.loop.report(error, 'poll');
        }
      }
    }
    if (this.writeEnded && this.queue.size === 0) this.finishWrite();
  }

  /** Everything written after end(): send FIN; once the peer's EOF was seen too, the stream closes. */
  private finishWrite(): void {
    if (this.shutdownDone || !this.fdOpen) return;
    this.shutdownDone = true;
    this.loop.libc.shutdown(this.fd, SHUT_WR);
    if (this.peerEnded) this.closeFromHost();
  }

  /** Bring the registered events (level-triggered) in line with what the stream wants now. */
  private syncInterest(): void {
    if (!this.fdOpen) return;
    const loop = this.loop;
    if (loop.edgeFlag !== 0 || this.hungUp) {
      // Readiness may already have come and gone (an edge, a hang-up): read in the next poll tick.
      if ((this.readable || this.hungUp) && this.readingWanted() && !this.readQueued) {
        this.readQueued = true;
        loop.deliver(this.readLater, this, undefined);
      }
      // Edge-triggered, EPOLLOUT joins once and stays: after it, an idle socket brings no edges.
      if (loop.edgeFlag !== 0 && this.queue.size > 0 && (this.interest & EPOLLOUT) === 0) {
        this.interest |= EPOLLOUT;
        const status = loop.rewatch(this.fd, this, this.interest);
        if (status !== 0) this.failLater(status);
      }
      return;
    }
    // Without a data callback the stream still watches for the peer's FIN (EPOLLRDHUP alone).
    const reading = this.readingWanted() ? EPOLLIN | EPOLLRDHUP : this.events.data === undefined && !this.peerEnded ? EPOLLRDHUP : 0;
    const wanted = reading | (this.queue.size > 0 ? EPOLLOUT : 0);
    if (wanted === this.interest) return;
    const status = this.interest === -1 ? loop.watch(this.fd, this, wanted) : loop.rewatch(this.fd, this, wanted);
    this.interest = wanted;
    if (status !== 0) this.failLater(status);
  }

  private readLater(): void {
    this.readQueued = false;
    if (this.readingWanted()) this.readSome(EPOLLIN);
  }

  /** A socket error found inside a user's call: remember it, close in the poll phase. */
  private failLater(errno: number): void {
    if (this.errored) return;
    this.errored = true;
    this.closeError ??= new SocketError('socket error', systemError('write', errno));
    this.queue.clear();
    this.loop.deliver(this.closeFromHost, this, undefined);
  }

  private fail(errno: number, syscall: string): void {
    this.errored = true;
    this.closeError ??= new SocketError('socket error', systemError(syscall, errno));
    this.closeFromHost();
  }

  /** The socket is done (error, or both directions ended): release it; the close event runs in the close phase. */
  private closeFromHost(): void {
    if (!this.fdOpen) return;
    this.releaseFd();
    this.closedByHost();
  }

  private releaseFd(): void {
    if (!this.fdOpen) return;
    this.fdOpen = false;
    this.queue.clear();
    this.loop.release(this.fd, this);
    this.loop.libc.close(this.fd);
  }

  private address(peer: boolean): SocketAddress | undefined {
    const loop = this.loop;
    loop.addressLength.writeUInt32LE(SOCKADDR_SIZE, 0);
    const status = peer ? loop.libc.getpeername(this.fd, loop.addressBuffer, loop.addressLength) : loop.libc.getsockname(this.fd, loop.addressBuffer, loop.addressLength);
    return status === 0 ? decodeSockaddr(loop.addressBuffer) : undefined;
  }

  protected override beginClose(): void {
    // close() and destroy(): unwritten data is dropped, the fd closed now.
    this.releaseFd();
    this.closedByHost();
  }

  protected override closed(): void {
    const error = this.closeError;
    this.closeError = undefined;
    const close = this.events.close;
    if (close !== undefined) close(error);
  }
}
