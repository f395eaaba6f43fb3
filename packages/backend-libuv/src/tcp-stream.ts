import type { Socket } from 'node:net';
import { EventLoopError, SocketError, type SocketAddress, type StreamEvents, type TcpStream } from '@loop/core';
import { HandleBase, type LoopBase } from '@loop/core/kit';

/** Read an endpoint off a Node socket; `undefined` when the socket has none (closed). */
export function socketAddress(address: string | undefined, port: number | undefined, family: string | undefined): SocketAddress | undefined {
  if (address === undefined || port === undefined) return undefined;
  return { address, port, family: family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/**
 * {@link TcpStream} over a `node:net` socket. Node's events are forwarded through
 * `loop.io(method, this, arg)`, so they run in the poll phase and no closure is made per event.
 */
export class NodeTcpStream extends HandleBase implements TcpStream {
  readonly kind = 'tcp stream';
  private events: StreamEvents = {};
  private userPaused = false;
  // Set while data waits in the loop's deferred queue (the loop was not running): reading stops
  // so that queue stays small, and starts again once the data was delivered.
  private deferPaused = false;
  private writeEnded = false;
  private closeError: EventLoopError | undefined;

  constructor(
    loop: LoopBase,
    private readonly socket: Socket,
  ) {
    super(loop);
    this.activate();
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      if (!loop.isPolling() && !this.deferPaused) {
        this.deferPaused = true;
        socket.pause();
      }
      loop.io(this.emitData, this, chunk);
    });
    socket.on('end', () => loop.io(this.emitEnd, this, undefined));
    socket.on('drain', () => loop.io(this.emitDrain, this, undefined));
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

  write(data: Uint8Array | string): boolean {
    this.assertWritable();
    return this.socket.write(data);
  }

  end(data?: Uint8Array | string): void {
    if (this.writeEnded || this.isClosing()) return;
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

  private assertWritable(): void {
    if (this.writeEnded || this.isClosing() || this.socket.destroyed) {
      throw new EventLoopError('ERR_STREAM_DESTROYED', 'write after end(), destroy() or close');
    }
  }

  private syncFlow(): void {
    if (this.isClosing()) return;
    if (this.userPaused || this.deferPaused || !this.events.data) this.socket.pause();
    else this.socket.resume();
  }

  private emitData(chunk: Buffer): void {
    if (this.deferPaused) {
      this.deferPaused = false;
      this.syncFlow();
    }
    this.events.data?.(chunk);
  }

  private emitEnd(): void {
    this.events.end?.();
  }

  private emitDrain(): void {
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
