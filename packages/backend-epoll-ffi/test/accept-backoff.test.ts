import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SocketError, type TcpServer, type TcpStream } from '@loop/core';
import { EpollLoop } from '../src/epoll-loop.js';
import { createLoop, type TriggerMode } from '../src/index.js';
import { loadLibc, type Libc } from '../src/libc.js';
import { boundSocket, epollMasksOf, withoutFreeFds } from './fd-table-helpers.js';
import { eventually, openFdCount, within } from './http-helpers.js';

const realLibc = loadLibc();

/** The real libc, counting accept4 calls. */
function countingLibc(calls: { accept4: number }): Libc {
  const libc: Libc = Object.create(realLibc) as Libc;
  libc.accept4 = (fd, address, length, flags) => {
    calls.accept4++;
    return realLibc.accept4(fd, address, length, flags);
  };
  return libc;
}

/** A client connection to `port`, resolved once connected (it then waits in the backlog). */
function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The listening fd of a server of this package (white box). */
function listenFd(server: TcpServer): number {
  return (server as unknown as { fd: number }).fd;
}

describe.each<TriggerMode>(['level', 'edge'])('accept back-off (%s-triggered)', (trigger) => {
  it('a listener that started without a reserve fd backs off on EMFILE instead of shedding: one accept, EMFILE reported, no longer watched, and the waiting connection accepted after the back-off', async () => {
    const fdsBefore = openFdCount();
    const calls = { accept4: 0 };
    const errors: unknown[] = [];
    const loop = new EpollLoop(countingLibc(calls), { trigger, onError: (error) => errors.push(error) });
    const accepted: (number | undefined)[] = [];
    let listening!: Promise<TcpServer>;
    // Three fds free: the socket and the loop's epoll set and timerfd get them, the reserve fd does not.
    await withoutFreeFds(async () => {
      listening = loop.listen({ host: '127.0.0.1', port: 0 }, (stream: TcpStream) => {
        accepted.push(stream.remoteAddress?.port);
        stream.close();
        server.close();
      });
    }, 3);
    const server = await listening;
    expect(loop.reserveFd).toBe(-1);
    const fd = listenFd(server);
    expect(epollMasksOf(fd)).toHaveLength(1);
    const socket = await client(server.address.port);
    await withoutFreeFds(() => loop.run('nowait'));
    expect(calls.accept4).toBe(1);
    expect(loop.stats.acceptShed).toBe(0);
    expect(accepted).toEqual([]);
    expect(errors).toHaveLength(1);
    const error = errors[0] as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.errno).toBe('EMFILE');
    expect(error.cause).toMatchObject({ syscall: 'accept4', code: 'EMFILE' });
    expect(error.message).toBe(`accept on 127.0.0.1:${server.address.port} failed; the server stops accepting for a moment: EMFILE`);
    // Backing off: the listener is out of the epoll set until its timer puts it back.
    expect(epollMasksOf(fd)).toEqual([]);
    // The connection waited in the backlog (not shed) and is accepted once the back-off is over.
    await within(loop.run(), 10_000, 'the back-off to end, the connection to be accepted and the server to close');
    expect(accepted).toEqual([socket.localPort]);
    expect(calls.accept4).toBe(2);
    expect(errors).toHaveLength(1);
    socket.destroy();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('a plain (non-exclusive) listener whose accept fails with EINVAL stops watching its fd while it backs off, and watches it again after', async () => {
    const fdsBefore = openFdCount();
    // Bound but never listened: accept4 fails with EINVAL, and epoll reports the socket (EPOLLHUP).
    const { fd, port } = boundSocket(false);
    const errors: unknown[] = [];
    const loop = createLoop({ trigger, onError: (error) => errors.push(error) });
    const server = await loop.listen({ fd }, () => undefined);
    expect(epollMasksOf(fd)).toHaveLength(1);
    await loop.run('nowait');
    expect(loop.stats.listenEvents).toBe(1);
    expect(errors).toHaveLength(1);
    const error = errors[0] as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.cause).toMatchObject({ syscall: 'accept4', code: 'EINVAL' });
    expect(error.message).toBe(`accept on 127.0.0.1:${port} failed; the server stops accepting for a moment: EINVAL`);
    expect(epollMasksOf(fd)).toEqual([]);
    // After the back-off it is watched again (and fails again, and backs off again).
    const running = loop.run();
    await eventually(() => loop.stats.listenEvents >= 3, 'the listener to be watched again after two back-offs');
    loop.callSoon(() => server.close());
    await within(running, 10_000, 'the run to end');
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});
