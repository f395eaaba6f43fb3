import type { TcpServer, TcpStream } from '@loop/core';
import { AcceptServer } from './accept-server.js';
import type { EpollLoop } from './epoll-loop.js';
import type { ListeningSocket } from './listen-socket.js';
import { EpollTcpStream } from './tcp-stream.js';

/** {@link TcpServer} on a listening socket of the loop: each accepted fd becomes an {@link EpollTcpStream}. */
export class EpollTcpServer extends AcceptServer implements TcpServer {
  readonly kind = 'tcp server';

  private constructor(
    loop: EpollLoop,
    socket: ListeningSocket,
    private readonly onConnection: (stream: TcpStream) => void,
  ) {
    super(loop, socket);
  }

  /**
   * Watch `socket` and return the active server.
   * @throws SocketError when it cannot be watched (the socket is closed then)
   */
  static start(loop: EpollLoop, socket: ListeningSocket, onConnection: (stream: TcpStream) => void): EpollTcpServer {
    const server = new EpollTcpServer(loop, socket, onConnection);
    server.startListening();
    return server;
  }

  protected accepted(fd: number): void {
    const stream = new EpollTcpStream(this.loop, fd);
    try {
      this.onConnection(stream);
    } catch (error) {
      this.loop.report(error, 'poll');
    }
    stream.settle();
  }

  protected override beginClose(): void {
    // Streams already accepted are handles of their own and stay open.
    this.stopListening();
    this.closedByHost();
  }
}
