import { createServer, type Server, type Socket } from 'node:net';
import { SocketError, type Completion, type SocketAddress, type TcpServer, type TcpStream } from '@loop/core';
import { HandleBase, type LoopBase, type ResolvedListenOptions } from '@loop/core/kit';
import { listenServer } from './listen.js';
import { NodeTcpStream } from './tcp-stream.js';

/** {@link TcpServer} over a `node:net` server. */
export class NodeTcpServer extends HandleBase implements TcpServer {
  readonly kind = 'tcp server';
  private boundAddress: SocketAddress | undefined;

  private constructor(
    loop: LoopBase,
    private readonly server: Server,
    private readonly onConnection: (stream: TcpStream) => void,
  ) {
    super(loop);
  }

  /** Bind and listen; `done` gets the active server handle or the bind error. */
  static start(loop: LoopBase, options: ResolvedListenOptions, onConnection: (stream: TcpStream) => void, done: Completion<TcpServer>): void {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    const handle = new NodeTcpServer(loop, server, onConnection);
    // Connections may arrive before the completion runs: they are queued by loop.deliver like any event.
    server.on('connection', (socket: Socket) => loop.deliver(handle.accept, handle, socket));
    listenServer(server, options, (error, address) => {
      if (error) {
        done(error, undefined);
        return;
      }
      handle.boundAddress = address;
      // After a successful listen, errors come from accept() (EMFILE, ...): report them, keep listening.
      server.on('error', (acceptError: Error) => loop.deliver(handle.acceptFailed, handle, acceptError));
      handle.activate();
      done(undefined, handle);
    });
  }

  get address(): SocketAddress {
    return this.boundAddress as SocketAddress;
  }

  private accept(socket: Socket): void {
    if (this.isClosing()) {
      socket.destroy();
      return;
    }
    this.onConnection(new NodeTcpStream(this.loop, socket));
  }

  private acceptFailed(error: Error): void {
    this.loop.report(new SocketError('accept failed', error), 'poll');
  }

  protected override refChanged(referenced: boolean): void {
    if (referenced) this.server.ref();
    else this.server.unref();
  }

  protected override beginClose(): void {
    // net.Server emits 'close' only once every accepted socket is gone, but those are handles of
    // their own here. The listening fd itself is closed synchronously by server.close().
    this.server.close();
    this.closedByHost();
  }
}
