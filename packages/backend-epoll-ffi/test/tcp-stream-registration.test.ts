import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventLoopError, SocketError, type TcpServer, type TcpStream } from '@loop/core';
import { EPOLLRDHUP } from '../src/constants.js';
import { EpollLoop } from '../src/epoll-loop.js';
import { createLoop, type TriggerMode } from '../src/index.js';
import { loadLibc, type Libc } from '../src/libc.js';
import { epollMasksOf } from './fd-table-helpers.js';
import { openFdCount, within } from './http-helpers.js';

const realLibc = loadLibc();
const EPOLL_CTL_ADD = 1;
const ENOMEM = 12;

/** A client connection to `port`, resolved once connected; `closed` once the server closed it. */
function client(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** The real libc, except that epoll_ctl(ADD) of every accepted fd fails with ENOMEM. */
function addFailingLibc(): Libc {
  const libc: Libc = Object.create(realLibc) as Libc;
  const acceptedFds = new Set<number>();
  let pending: number | undefined;
  libc.accept4 = (fd, address, length, flags) => {
    const accepted = realLibc.accept4(fd, address, length, flags);
    if (accepted >= 0) acceptedFds.add(accepted);
    return accepted;
  };
  libc.epoll_ctl = (epfd, op, fd, event) => {
    if (op === EPOLL_CTL_ADD && acceptedFds.delete(fd)) {
      pending = ENOMEM;
      return -1;
    }
    return realLibc.epoll_ctl(epfd, op, fd, event);
  };
  libc.errno = () => {
    const errno = pending ?? realLibc.errno();
    pending = undefined;
    return errno;
  };
  return libc;
}

describe('a TCP stream in the loop’s epoll set', () => {
  it('edge-triggered: an accepted socket that epoll refuses (ADD fails) is closed with ERR_SOCKET carrying the errno', async () => {
    const fdsBefore = openFdCount();
    const loop = new EpollLoop(addFailingLibc(), { trigger: 'edge' });
    const closeErrors: (EventLoopError | undefined)[] = [];
    const server: TcpServer = await loop.listen({ host: '127.0.0.1', port: 0 }, (stream: TcpStream) => {
      stream.on({
        close: (error) => {
          closeErrors.push(error);
          server.close();
        },
      });
    });
    const { socket, closed } = await client(server.address.port);
    await within(loop.run(), 10_000, 'the stream to be closed and the server with it');
    expect(closeErrors).toHaveLength(1);
    const error = closeErrors[0] as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.code).toBe('ERR_SOCKET');
    expect(error.errno).toBe('ENOMEM');
    await within(closed, 10_000, 'the client to see the connection closed');
    socket.destroy();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  describe.each<TriggerMode>(['level', 'edge'])('%s-triggered', (trigger) => {
    it('a stream whose owner never calls on() is registered anyway, and a reset from the peer closes it', async () => {
      const fdsBefore = openFdCount();
      const loop = createLoop({ trigger });
      const accepted: TcpStream[] = [];
      const server = await loop.listen({ host: '127.0.0.1', port: 0 }, (stream) => {
        accepted.push(stream);
        server.close();
      });
      const { socket } = await client(server.address.port);
      // The connection waits in the backlog: one nowait run accepts it.
      await loop.run('nowait');
      expect(accepted).toHaveLength(1);
      const fd = (accepted[0] as unknown as { fd: number }).fd;
      // Watched for the peer's FIN and errors at least, though nothing was asked of it.
      const masks = epollMasksOf(fd);
      expect(masks).toHaveLength(1);
      expect((masks[0] as number) & EPOLLRDHUP).toBe(EPOLLRDHUP);
      // The reset closes it, so the run ends (it is the loop's last handle).
      socket.resetAndDestroy();
      await within(loop.run(), 10_000, 'the reset to close the stream and the run to end');
      expect(accepted[0]?.localAddress).toBeUndefined();
      loop.close();
      expect(openFdCount()).toBe(fdsBefore);
    });

    it('pause() and resume() after close() change nothing: the close callback gets no error', async () => {
      const fdsBefore = openFdCount();
      const loop = createLoop({ trigger });
      const closeErrors: (EventLoopError | undefined)[] = [];
      const server = await loop.listen({ host: '127.0.0.1', port: 0 }, (stream) => {
        stream.on({ data: () => undefined, close: (error) => closeErrors.push(error) });
        stream.close();
        stream.pause();
        stream.resume();
        stream.pause();
        server.close();
      });
      const { socket, closed } = await client(server.address.port);
      await within(loop.run(), 10_000, 'the stream and the server to close');
      expect(closeErrors).toEqual([undefined]);
      await within(closed, 10_000, 'the client to see the connection closed');
      socket.destroy();
      loop.close();
      expect(openFdCount()).toBe(fdsBefore);
    });
  });
});
