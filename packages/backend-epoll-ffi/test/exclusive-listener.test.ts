import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SocketError, type TcpServer, type TcpStream } from '@loop/core';
import { AF_INET, EPOLLERR, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, O_NONBLOCK, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET } from '../src/constants.js';
import { createLoop, type EpollEventLoop, type TriggerMode } from '../src/index.js';
import { loadLibc } from '../src/libc.js';
import { encodeSockaddr, SOCKADDR_SIZE } from '../src/sockaddr.js';
import { eventually, openFdCount, within } from './http-helpers.js';

const libc = loadLibc();

/** A blocking socket made here, bound to a free loopback port and listening unless told not to. */
function boundSocket(listening = true): { fd: number; port: number } {
  const fd = libc.socket(AF_INET, SOCK_STREAM, 0);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
  const address = Buffer.alloc(SOCKADDR_SIZE);
  encodeSockaddr('127.0.0.1', 0, address);
  expect(libc.bind(fd, address, 16)).toBe(0);
  if (listening) expect(libc.listen(fd, 128)).toBe(0);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(SOCKADDR_SIZE);
  libc.getsockname(fd, address, length);
  return { fd, port: address.readUInt16BE(2) };
}

/** Every epoll registration of `fd` in this process, as event masks (read from /proc/self/fdinfo). */
function epollMasksOf(fd: number): number[] {
  const masks: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // the fd of the directory listing itself, closed by now
    }
    if (target !== 'anon_inode:[eventpoll]') continue;
    for (const match of readFileSync(`/proc/self/fdinfo/${name}`, 'utf8').matchAll(/tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)/g)) {
      if (Number(match[1]) === fd) masks.push(Number.parseInt(match[2] as string, 16) >>> 0);
    }
  }
  return masks;
}

/** How many fds of this process are open on /dev/null (the loop's reserve fd is one). */
function devNullFds(): number {
  let count = 0;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === '/dev/null') count++;
    } catch {
      // the fd of the directory listing itself, closed by now
    }
  }
  return count;
}

/** A client connection, resolved once connected; `closed` once the server closed it. */
function client(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** The listen error for `options` (its callback runs in the loop: run it until then, and stop). */
async function listenError(loop: EpollEventLoop, options: Parameters<EpollEventLoop['listen']>[0]): Promise<unknown> {
  const error = new Promise((resolve) => loop.listen(options, () => undefined, (failure) => resolve(failure)));
  const running = loop.run();
  const failure = await within(error, 10_000, 'the run to deliver the listen error');
  loop.callSoon(() => loop.stop());
  await within(running, 10_000, 'the run to stop');
  return failure;
}

describe.each<TriggerMode>(['level', 'edge'])('an exclusive listener in this process (%s-triggered)', (trigger) => {
  it('takes over a blocking listening socket, makes it non-blocking, registers it with EPOLLEXCLUSIVE in an epoll set of its own and accepts every connection', async () => {
    const fdsBefore = openFdCount();
    const { fd, port } = boundSocket();
    const loop = createLoop({ trigger });
    const accepted: number[] = [];
    const server = await loop.listen({ fd, exclusive: true }, (stream: TcpStream) => {
      accepted.push(stream.remoteAddress?.port ?? -1);
      stream.close();
    });
    expect(server.address.port).toBe(port);
    expect(libc.getFileFlags(fd) & O_NONBLOCK).toBe(O_NONBLOCK);
    // One registration, exclusive and level-triggered whatever the loop's mode: the pool thread's
    // epoll_wait takes a connection per wake-up and the accepts drain the backlog.
    // (The kernel adds EPOLLERR and EPOLLHUP to every registration.)
    expect(epollMasksOf(fd).map((mask) => (mask & ~(EPOLLERR | EPOLLHUP)) >>> 0)).toEqual([(EPOLLIN | EPOLLEXCLUSIVE) >>> 0]);
    const running = loop.run();
    const ports: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const one = await client(port);
      ports.push(one.socket.localPort);
      await within(one.closed, 10_000, `connection ${i} to be accepted and closed`);
    }
    expect(accepted).toEqual(ports);
    expect(loop.stats.accepted).toBe(5);
    expect(loop.stats.wakeups).toBeGreaterThanOrEqual(5);
    loop.callSoon(() => server.close());
    await within(running, 10_000, 'the run to end once the server closed');
    loop.close();
    // The pool thread lets go of the epoll set and the eventfd when its cancelled wait returns.
    await eventually(() => openFdCount() === fdsBefore, 'the listener, its epoll set and its eventfd to be closed');
    expect(epollMasksOf(fd)).toEqual([]);
  });

  it('holds the reserve fd for EMFILE while it listens, as any listener does, and gives it back when it closes', async () => {
    const fdsBefore = openFdCount();
    const nullsBefore = devNullFds();
    const { fd } = boundSocket();
    const loop = createLoop({ trigger });
    const server = await loop.listen({ fd, exclusive: true }, () => undefined);
    expect(devNullFds()).toBe(nullsBefore + 1);
    server.close();
    expect(devNullFds()).toBe(nullsBefore);
    await loop.run();
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });

  it('accepts in a nowait run, which parks no pool thread: the poll phase looks at the exclusive set itself', async () => {
    const fdsBefore = openFdCount();
    const { fd, port } = boundSocket();
    const loop = createLoop({ trigger });
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ fd, exclusive: true }, (stream) => accepted.push(stream));
    const { socket, closed } = await client(port);
    expect(await loop.run('nowait')).toBe(true);
    expect(accepted).toHaveLength(1);
    expect(loop.stats.accepted).toBe(1);
    // No wait was left armed by the accept: a connection now wakes nothing until the next run.
    const second = await client(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(loop.stats.wakeups).toBe(0);
    expect(accepted).toHaveLength(1);
    await loop.run('nowait');
    expect(accepted).toHaveLength(2);
    accepted[1]?.close();
    second.socket.destroy();
    accepted[0]?.close();
    server.close();
    await loop.run();
    await within(closed, 10_000, 'the accepted connection to close');
    socket.destroy();
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });

  it('takes a cancelled wait for what it is: after a run ends, the next run parks again and wakes for no connection in vain', async () => {
    const fdsBefore = openFdCount();
    const { fd, port } = boundSocket();
    const loop = createLoop({ trigger });
    const accepted: string[] = [];
    const server = await loop.listen({ fd, exclusive: true }, (stream) => {
      accepted.push('accepted');
      stream.close();
    });
    // Each run parks the pool thread, and a timer ends it: its end cancels the parked wait.
    for (let run = 0; run < 3; run++) {
      const timer = loop.timer(() => loop.stop());
      timer.start(30);
      await within(loop.run(), 10_000, `run ${run} to end on its timer`);
      timer.close();
    }
    expect(loop.stats.acceptMissed).toBe(0);
    expect(accepted).toEqual([]);
    // No wait outlives its run: a connection now wakes nothing; the next run accepts it.
    const wakeups = loop.stats.wakeups;
    const { socket, closed } = await client(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(loop.stats.wakeups).toBe(wakeups);
    expect(accepted).toEqual([]);
    const running = loop.run();
    await within(closed, 10_000, 'the connection to be accepted and closed');
    socket.destroy();
    expect(accepted).toEqual(['accepted']);
    expect(loop.stats.acceptMissed).toBe(0);
    loop.callSoon(() => server.close());
    await within(running, 10_000, 'the run to end');
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });

  it('closes its fds when the server closes while the pool thread waits, with no connection ever', async () => {
    const fdsBefore = openFdCount();
    const { fd } = boundSocket();
    const loop = createLoop({ trigger });
    const server: TcpServer = await loop.listen({ fd, exclusive: true }, () => undefined);
    const order: string[] = [];
    const running = loop.run().then(() => order.push('run ended'));
    setTimeout(() => loop.callSoon(() => {
      order.push('close');
      server.close();
    }), 20);
    await within(running, 10_000, 'the run to end');
    expect(order).toEqual(['close', 'run ended']);
    expect(loop.stats.accepted).toBe(0);
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'the listener, its epoll set and its eventfd to be closed');
  });

  it('a socket that was bound but never listened: accept fails with EINVAL, reported once, and the listener backs off instead of spinning', async () => {
    const fdsBefore = openFdCount();
    const { fd, port } = boundSocket(false);
    const errors: unknown[] = [];
    const loop = createLoop({ trigger, onError: (error) => errors.push(error) });
    const server = await loop.listen({ fd, exclusive: true }, () => undefined);
    const running = loop.run();
    await eventually(() => errors.length > 0, 'the accept failure to be reported');
    const error = errors[0] as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.errno).toBe('EINVAL');
    expect(error.cause).toMatchObject({ syscall: 'accept4', code: 'EINVAL' });
    expect(error.message).toBe(`accept on 127.0.0.1:${port} failed; the server stops accepting for a moment: EINVAL`);
    const events = loop.stats.listenEvents;
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Backing off 100 ms at a time: a few more looks at most, where a spin would make thousands.
    const elapsed = Date.now() - started;
    expect(loop.stats.listenEvents - events).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    expect(errors.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / 1000));
    // And it comes back after each back-off: the listener is looked at again.
    const looked = loop.stats.listenEvents;
    await eventually(() => loop.stats.listenEvents > looked, 'the listener to be watched again after its back-off');
    loop.callSoon(() => server.close());
    await within(running, 10_000, 'the run to end');
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });
});

describe('taking over an fd that cannot be a listener', () => {
  it('an fd that is not a socket: SocketError ENOTSOCK naming the fd, and the fd is left open for its owner', async () => {
    const loop = createLoop();
    const fd = openSync('/dev/null', 'r');
    const fdsBefore = openFdCount();
    try {
      const error = (await listenError(loop, { fd, exclusive: true })) as SocketError;
      expect(error).toBeInstanceOf(SocketError);
      expect(error.code).toBe('ERR_SOCKET');
      expect(error.errno).toBe('ENOTSOCK');
      expect(error.cause).toMatchObject({ syscall: 'getsockname', code: 'ENOTSOCK' });
      expect(error.message).toBe(`fd ${fd} is not a bound socket: ENOTSOCK`);
      expect(openFdCount()).toBe(fdsBefore);
      expect(libc.getFileFlags(fd)).toBeGreaterThanOrEqual(0);
    } finally {
      closeSync(fd);
    }
    // Nothing is left behind: the next listen works and the loop closes.
    const server = await loop.listen({ port: 0 }, () => undefined);
    server.close();
    await loop.run();
    loop.close();
  });

  it('an fd number that is not open: SocketError EBADF saying it cannot take the fd over, and no other fd is closed', async () => {
    const loop = createLoop();
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    const fdsBefore = openFdCount();
    const error = (await listenError(loop, { fd })) as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.errno).toBe('EBADF');
    expect(error.cause).toMatchObject({ syscall: 'fcntl', code: 'EBADF' });
    expect(error.message).toBe(`cannot take over fd ${fd}: EBADF`);
    expect(openFdCount()).toBe(fdsBefore);
    loop.close();
  });

  it('an fd this loop already listens on: SocketError EEXIST, and the server that owns it keeps its fd and serves on', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const served: string[] = [];
    const first = await loop.listen({ port: 0 }, (stream) => {
      served.push('first');
      stream.close();
    });
    const fd = (first as unknown as { fd: number }).fd;
    const error = (await listenError(loop, { fd, exclusive: true })) as SocketError;
    expect(error).toBeInstanceOf(SocketError);
    expect(error.errno).toBe('EEXIST');
    expect(error.cause).toMatchObject({ syscall: 'epoll_ctl', code: 'EEXIST' });
    expect(error.message).toBe(`fd ${fd} is already in use by this loop: EEXIST`);
    expect(libc.getFileFlags(fd)).toBeGreaterThanOrEqual(0);
    const running = loop.run();
    const { socket, closed } = await client(first.address.port);
    await within(closed, 10_000, 'the first server to accept and close the connection');
    socket.destroy();
    expect(served).toEqual(['first']);
    loop.callSoon(() => first.close());
    await within(running, 10_000, 'the run to end');
    loop.close();
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });
});
