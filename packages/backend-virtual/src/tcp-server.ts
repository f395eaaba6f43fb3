import type { SocketAddress, TcpServer, TcpStream } from '@loop/core';
import { HandleBase, type LoopBase } from '@loop/core/kit';
import type { Listener, ListenerOwner, Network } from './network.js';
import type { SeededRandom } from './seeded-random.js';
import { OPEN } from './socket.js';
import { VirtualTcpStream } from './tcp-stream.js';

/** {@link TcpServer} over a listener of the virtual network. */
export class VirtualTcpServer extends HandleBase implements TcpServer, ListenerOwner {
  readonly kind = 'tcp server';
  private acceptQueued = false;

  constructor(
    loop: LoopBase,
    private readonly network: Network,
    private readonly random: SeededRandom,
    private readonly listener: Listener,
    private readonly onConnection: (stream: TcpStream) => void,
  ) {
    super(loop);
    listener.owner = this;
    this.activate();
  }

  get address(): SocketAddress {
    return this.listener.address;
  }

  connectionQueued(): void {
    if (this.acceptQueued || this.isClosing()) return;
    this.acceptQueued = true;
    this.loop.deliver(this.acceptPending, this, undefined);
  }

  /**
   * Accept every connection waiting (libuv accepts until EAGAIN), in a seeded random order: which
   * of several waiting connections is accepted first is a free choice the seed makes.
   */
  private acceptPending(): void {
    this.acceptQueued = false;
    const queue = this.listener.queue;
    while (queue.length > 0 && !this.isClosing()) {
      const index = this.random.below(queue.length);
      const socket = queue[index];
      queue[index] = queue[queue.length - 1] as (typeof queue)[number];
      queue.pop();
      if (socket === undefined || socket.state !== OPEN) continue; // reset before it was accepted
      const stream = new VirtualTcpStream(this.loop, socket);
      try {
        this.onConnection(stream);
      } catch (error) {
        this.loop.report(error, 'poll');
      }
    }
  }

  protected override beginClose(): void {
    this.network.unlisten(this.listener);
    this.closedByHost();
  }
}
