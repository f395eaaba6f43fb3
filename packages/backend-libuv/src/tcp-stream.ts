import type { Socket } from 'node:net';
import { EventLoopError, SocketError, type SocketAddress, type StreamEvents, type TcpStream } from '@loop/core';
import { checkChunk, HandleBase, type LoopBase } from '@loop/core/kit';

/** Read an endpoint off a Node socket; `undefined` when the socket has none (closed). */
export function socketAddress(address: string | undefined, port: number | undefined, family: string | undefined): SocketAddress | undefined {
  if (address === undefined || port === undefined) return undefined;
  return { address, port, family: family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/**
 * {@link TcpStream} over a `node:net` socket. Node's events are queued with
 * `loop.deliver(method, this, arg)`, so they run in the poll phase and no closure is made per
 * event. Chunks are Node's own buffers: the contract lends them to the callback, which is more
 * than a borrow needs.
 */
export class NodeTcpStream extends HandleBase implements TcpStream {
  readonly kind = 'tcp stream';
  private events: StreamEvents = {};
  private userPaused = false;
  // Set while a chunk waits in the loop's queue or here: reading stops so that nothing piles up
  // while the loop is not running or the user paused after Node had read more.
  private hostPaused = false;
  private held: Buffer[] = [];
  private endHeld = false;
  private writeEnded = false;
  // The peer ended before this stream existed: Node emitted 'end' then, with no listener (a socket
  // with nothing buffered ends as soon as its FIN is read). Delivered once the stream reads.
  private endedEarly: boolean;
  private closeError: EventLoopError | undefined;

  constructor(
    loop: LoopBase,
    private readonly socket: Socket,
  ) {
    super(loop);
    this.activate();
    this.endedEarly = socket.readableEnded;
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      if (!loop.isRunning() && !this.hostPaused) {
        this.hostPaused = true;
        socket.pause();
      }
      loop.deliver(this.emitData, this, chunk);
    });
    socket.on('end', () => loop.deliver(this.emitEnd, this, undefined));
    socket.on('drain', () => loop.deliver(this.emitDrain, this, undefined));
    socket.on('error', (error: Error) => {
      this.closeError ??= new SocketError('socket error', error);
    });
    socket.on('close', () => this.closedByHost());
  }

  on(events: StreamEvents): this {
    this.events = { ...this.events, ...events };
    this.syncFlow();
    return this;
  }

  get writable(): boolean {
    return !this.writeEnded && !this.isClosing() && !this.socket.destroyed && this.closeError === undefined;
  }

  write(data: Uint8Array | string): boolean {
    checkChunk(data);
    if (!this.writable) return false;
    return this.socket.write(data);
  }

  end(data?: Uint8Array | string): void {
    if (data !== undefined) checkChunk(data);
    if (!this.writable) return;
    this.writeEnded = true;
    if (data === undefined) this.socket.end();
    else this.socket.end(data);
  }

  pause(): this {
    this.userPaused = true;
    this.syncFlow();
    return this;
  }

  resume(): this {
    this.userPaused = false;
    // Chunks Node read before the pause took effect go first, in order, in a poll phase.
    if (this.held.length > 0 || this.endHeld) this.loop.deliver(this.releaseHeld, this, undefined);
    this.syncFlow();
    return this;
  }

  destroy(error?: EventLoopError): void {
    if (error) this.closeError ??= error;
    this.close();
  }

  setNoDelay(noDelay: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  get localAddress(): SocketAddress | undefined {
    return this.socket.destroyed ? undefined : socketAddress(this.socket.localAddress, this.socket.localPort, this.socket.localFamily);
  }

  get remoteAddress(): SocketAddress | undefined {
    return this.socket.destroyed ? undefined : socketAddress(this.socket.remoteAddress, this.socket.remotePort, this.socket.remoteFamily);
  }

  private syncFlow(): void {
    if (this.isClosing()) return;
    if (this.userPaused || this.hostPaused || !this.events.data) {
      this.socket.pause();
    } else {
      this.socket.resume();
      if (this.endedEarly) {
        this.endedEarly = false;
        this.loop.deliver(this.emitEnd, this, undefined);
      }
    }
  }

  private emitData(chunk: Buffer): void {
    // close() was called: data that arrived before it, even data already queued, is dropped.
    if (this.isClosing()) return;
    if (this.userPaused || this.held.length > 0) {
      this.held.push(chunk);
      return;
    }
    if (this.hostPaused) {
      this.hostPaused = false;
      this.syncFlow();
    }
    this.events.data?.(chunk);
  }

  private releaseHeld(): void {
    while (this.held.length > 0 && !this.userPaused && !this.isClosing()) {
      const chunk = this.held.shift() as Buffer;
      this.events.data?.(chunk);
    }
    if (this.held.length === 0 && this.endHeld && !this.userPaused) {
      this.endHeld = false;
      this.emitEnd();
    }
    if (this.hostPaused && this.held.length === 0) {
      this.hostPaused = false;
      this.syncFlow();
    }
  }

  private emitEnd(): void {
    if (this.isClosing()) return;
    if (this.userPaused || this.held.length > 0) {
      this.endHeld = true;
      return;
    }
    this.events.end?.();
  }

  private emitDrain(): void {
    if (this.isClosing()) return;
    this.events.drain?.();
  }

  protected override refChanged(referenced: boolean): void {
    if (referenced) this.socket.ref();
    else this.socket.unref();
  }

  protected override beginClose(): void {
    this.socket.destroy();
  }

  protected override closed(): void {
    const error = this.closeError;
    this.closeError = undefined;
    this.events.close?.(error);
  }
}
