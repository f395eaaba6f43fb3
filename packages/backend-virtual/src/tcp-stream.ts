import { EventLoopError, type SocketAddress, type StreamEvents, type TcpStream } from '@loop/core';
import { checkChunk, HandleBase, type LoopBase } from '@loop/core/kit';
import { socketError } from './network.js';
import type { Socket, SocketOwner } from './socket.js';

/** A copy the socket owns: the caller may reuse `data` once `write()` returns. */
function ownedBytes(data: Uint8Array | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

/**
 * {@link TcpStream} over a virtual {@link Socket}. What arrives is handed over in the poll phase
 * with `loop.deliver`, one delivery per batch of chunks.
 *
 * Borrowed chunks are enforced: after each `data` callback returns, the chunk's bytes are
 * zeroed, so code that keeps a chunk without copying it sees zeros here (a test fails) rather
 * than garbage later on a backend that reuses its read buffer.
 */
export class VirtualTcpStream extends HandleBase implements TcpStream, SocketOwner {
  readonly kind = 'tcp stream';
  private events: StreamEvents = {};
  private paused = false;
  private flushQueued = false;
  private endEmitted = false;
  private closeError: EventLoopError | undefined;

  constructor(
    loop: LoopBase,
    private readonly socket: Socket,
  ) {
    super(loop);
    socket.owner = this;
    this.activate();
    // The peer may have sent data or its FIN before the connection was accepted.
    this.readable();
  }

  on(events: StreamEvents): this {
    this.events = { ...this.events, ...events };
    this.readable();
    return this;
  }

  get writable(): boolean {
    return !this.isClosing() && this.socket.writable;
  }

  write(data: Uint8Array | string): boolean {
    checkChunk(data);
    if (!this.writable) return false;
    return this.socket.write(ownedBytes(data));
  }

  end(data?: Uint8Array | string): void {
    if (data !== undefined) checkChunk(data);
    if (!this.writable) return;
    if (data !== undefined) this.socket.write(ownedBytes(data));
    this.socket.end();
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    this.readable();
    return this;
  }

  destroy(error?: EventLoopError): void {
    if (error) this.closeError ??= error;
    this.close();
  }

  /** The virtual network has no Nagle delay: every write is sent as if TCP_NODELAY were set. */
  setNoDelay(_noDelay: boolean): this {
    return this;
  }

  get bufferedAmount(): number {
    return this.socket.buffered;
  }

  get localAddress(): SocketAddress | undefined {
    return this.isClosing() ? undefined : this.socket.local;
  }

  get remoteAddress(): SocketAddress | undefined {
    return this.isClosing() ? undefined : this.socket.remote;
  }

  // ---- SocketOwner: told by the socket, never runs user code itself ----

  readable(): void {
    if (this.flushQueued || this.paused || this.isClosing()) return;
    const socket = this.socket;
    // A stream reads only while it has a data callback; the end needs no reading once every
    // byte before it was delivered (Node's paused socket with an empty buffer sees it too).
    const ready = socket.received.length > 0 ? this.events.data !== undefined : socket.finReceived && !this.endEmitted;
    if (!ready) return;
    this.flushQueued = true;
    this.loop.deliver(this.flush, this, undefined);
  }

  drained(): void {
    this.loop.deliver(this.emitDrain, this, undefined);
  }

  finished(): void {
    if (this.endEmitted) this.closedByHost();
  }

  reset(errno: string): void {
    this.closeError ??= socketError('connection reset by peer', errno);
    this.closedByHost();
  }

  // ---- deliveries, in the poll phase ----

  private flush(): void {
    this.flushQueued = false;
    const socket = this.socket;
    let consumed = 0;
    while (socket.received.length > 0 && !this.paused && !this.isClosing()) {
      const data = this.events.data;
      if (data === undefined) break;
      const chunk = socket.received.shift() as Buffer;
      consumed += chunk.length;
      try {
        data(chunk);
      } catch (error) {
        this.loop.report(error, 'poll');
      }
      chunk.fill(0); // the chunk was borrowed: see the class comment
    }
    socket.consumed(consumed);
    if (socket.received.length > 0 || !socket.finReceived || this.endEmitted || this.paused || this.isClosing()) return;
    this.endEmitted = true;
    try {
      this.events.end?.();
    } catch (error) {
      this.loop.report(error, 'poll');
    }
    // Both FINs are out: the connection is over (Node's allowHalfOpen socket closes here too).
    if (socket.finSent && !this.isClosing()) this.closedByHost();
  }

  private emitDrain(): void {
    if (!this.isClosing()) this.events.drain?.();
  }

  protected override beginClose(): void {
    this.closedByHost();
  }

  /** Every way the handle closes closes its socket (a no-op once the socket is closed). */
  protected override closedByHost(): void {
    this.socket.close();
    super.closedByHost();
  }

  protected override closed(): void {
    const error = this.closeError;
    this.closeError = undefined;
    this.events.close?.(error);
  }
}
