import { createServer, type Server, type Socket } from 'node:net';
import { SocketError, type ListenOptions, type SocketAddress, type TcpServer, type TcpStream } from '@loop/core';
import { HandleBase, type LoopBase } from '@loop/core/kit';
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

  /** Bind, listen and return the active server handle. */
  static async listen(loop: LoopBase, options: ListenOptions, onConnection: (stream: TcpStream) => void): Promise<NodeTcpServer> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    const handle = new NodeTcpServer(loop, server, onConnection);
    // Connections may arrive before the promise settles: they are queued by loop.io like any event.
    server.on('connection', (socket: Socket) => loop.io(handle.accept, handle, socket));
    handle.boundAddress = await listenServer(server, options);
    // After a successful listen, errors come from accept() (EMFILE, ...): report them, keep listening.
    server.on('error', (error: Error) => loop.report(new SocketError('accept failed', error), 'poll'));
    handle.activate();
    return handle;
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
