import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readlinkSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IoEvents, SocketError, type IoWatcher } from '@loop/core';
import { AF_INET, SO_REUSEADDR, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET } from '../src/constants.js';
import { EpollLoop } from '../src/epoll-loop.js';
import { createLoop, type EpollEventLoop } from '../src/index.js';
import { loadLibc, type Libc } from '../src/libc.js';
import { openFdCount, within } from './http-helpers.js';

const { READABLE, WRITABLE } = IoEvents;
const libc = loadLibc();

/** A FIFO's read end and two write ends (separate open file descriptions), removed afterwards. */
async function withFifo(fn: (fifo: { reader: number; writer: number; writer2: number }) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loop-fd-table-'));
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const writer2 = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    await within(Promise.resolve(fn({ reader, writer, writer2 })), 10_000, 'fd table test');
  } finally {
    for (const fd of [reader, writer, writer2]) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The loop's epoll fd (white box: the registrations are read from /proc/self/fdinfo). */
function epollFdOf(loop: EpollEventLoop): number {
  return (loop as unknown as { poller: { epollFd: number } }).poller.epollFd;
}

/** The registrations of an epoll fd: fd → { events mask, token }. */
function registrations(epollFd: number): Map<number, { events: number; token: number }> {
  const found = new Map<number, { events: number; token: number }>();
  for (const match of readFileSync(`/proc/self/fdinfo/${epollFd}`, 'utf8').matchAll(/tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)\s+data:\s*([0-9a-f]+)/g)) {
    const data = BigInt(`0x${match[3]}`);
    found.set(Number(match[1]), { events: Number.parseInt(match[2] as string, 16), token: Number(data >> 32n) });
  }
  return found;
}

/** Drain a non-blocking fd. */
function drain(fd: number): void {
  const buffer = Buffer.alloc(64);
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } catch {
    // EAGAIN: empty
  }
}

/** A client connected to `port` (the connection is in the listener's backlog once this resolves). */
function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

const EPOLLET = 0x8000_0000;

describe('the fd table: registrations in the epoll set', () => {
  for (const trigger of ['level', 'edge'] as const) {
    it(`registers the loop’s own sockets ${trigger === 'edge' ? 'with' : 'without'} EPOLLET in ${trigger} mode, and fd watchers level-triggered either way`, () =>
      withFifo(async ({ reader }) => {
        const fdsBefore = openFdCount();
        const loop = createLoop({ trigger });
        const server = await loop.listen({ port: 0 }, () => undefined);
        const watcher = loop.io(reader, () => undefined).start(READABLE);
        const table = registrations(epollFdOf(loop));
        const ownFds = [...table.keys()].filter((fd) => fd !== reader && (table.get(fd)?.token ?? 0) !== 0);
        expect(ownFds).toHaveLength(1); // the listener (the timerfd has token 0)
        expect(((table.get(ownFds[0] as number)?.events ?? 0) & EPOLLET) !== 0).toBe(trigger === 'edge');
        expect((table.get(reader)?.events ?? EPOLLET) & EPOLLET).toBe(0);
        watcher.close();
        server.close();
        await loop.run();
        loop.close();
        expect(openFdCount()).toBe(fdsBefore);
      }));
  }

  it('gives every registration a fresh non-zero token, and wraps from 2^32-1 to 1 (0 is the timerfd’s)', () =>
    withFifo(async ({ reader, writer, writer2 }) => {
      const loop = createLoop();
      (loop as unknown as { nextToken: number }).nextToken = 0xffff_fffe;
      const seen: string[] = [];
      const watchers = [reader, writer, writer2].map((fd, i) => loop.io(fd, (_w, events) => seen.push(`${i} ${events}`)));
      watchers[0]?.start(READABLE);
      watchers[1]?.start(WRITABLE);
      watchers[2]?.start(WRITABLE);
      const table = registrations(epollFdOf(loop));
      expect([reader, writer, writer2].map((fd) => table.get(fd)?.token)).toEqual([0xffff_fffe, 0xffff_ffff, 1]);
      writeSync(writer, 'x');
      await loop.run('nowait');
      expect(seen.sort()).toEqual([`0 ${READABLE}`, `1 ${WRITABLE}`, `2 ${WRITABLE}`]);
      for (const watcher of watchers) watcher.close();
      await loop.run();
      loop.close();
    }));

  it('does not deliver an event fetched before a watcher was stopped and restarted by another callback of the same batch', () =>
    withFifo(async ({ writer, writer2 }) => {
      const loop = createLoop();
      const seen: string[] = [];
      const watchers: IoWatcher[] = [];
      const onEvent = (name: string, other: () => IoWatcher) => (_w: IoWatcher, events: number) => {
        seen.push(`${name} ${events}`);
        // The first to run re-registers the other: the event of it fetched in this batch is stale.
        if (seen.length === 1) other().stop().start(WRITABLE);
      };
      watchers.push(loop.io(writer, onEvent('a', () => watchers[1] as IoWatcher)).start(WRITABLE));
      watchers.push(loop.io(writer2, onEvent('b', () => watchers[0] as IoWatcher)).start(WRITABLE));
      loop.stats.events = 0;
      await loop.run('nowait');
      expect(loop.stats.events).toBe(2);
      expect(seen).toHaveLength(1);
      // Level-triggered, the restarted watcher gets its event from the next batch.
      await loop.run('nowait');
      expect(seen).toHaveLength(3);
      for (const watcher of watchers) watcher.close();
      await loop.run();
      loop.close();
    }));

  it('dispatches only the events of the current batch, never one left in the buffer by a longer batch before', () =>
    withFifo(async ({ reader, writer }) => {
      const loop = createLoop();
      const seen: string[] = [];
      const onReader = loop.io(reader, (_w, events) => {
        seen.push(`reader ${events}`);
        drain(reader);
      });
      const onWriter = loop.io(writer, (w, events) => {
        seen.push(`writer ${events}`);
        w.stop();
      });
      onReader.start(READABLE);
      onWriter.start(WRITABLE);
      writeSync(writer, 'x');
      await loop.run('nowait'); // two events
      expect(seen.sort()).toEqual([`reader ${READABLE}`, `writer ${WRITABLE}`]);
      seen.length = 0;
      writeSync(writer, 'y');
      onWriter.start(WRITABLE);
      onWriter.stop();
      await loop.run('nowait'); // one event: the reader's
      expect(seen).toEqual([`reader ${READABLE}`]);
      onReader.close();
      onWriter.close();
      await loop.run();
      loop.close();
    }));

  it('takes a stopped watcher’s fd out of the epoll set: no event reaches the loop while it is stopped, and it can start again', () =>
    withFifo(async ({ writer }) => {
      const loop = createLoop();
      const seen: number[] = [];
      const server = await loop.listen({ port: 0 }, () => undefined); // keeps the epoll set open
      const watcher = loop.io(writer, (_w, events) => seen.push(events)).start(WRITABLE);
      watcher.stop();
      expect(registrations(epollFdOf(loop)).has(writer)).toBe(false);
      loop.stats.events = 0;
      await loop.run('nowait');
      expect(loop.stats.events).toBe(0);
      watcher.start(WRITABLE);
      await loop.run('nowait');
      expect(seen).toEqual([WRITABLE]);
      watcher.close();
      server.close();
      await loop.run();
      loop.close();
    }));

  it('gives the epoll fd and the timerfd back as soon as its last registration goes outside a run, and makes them again for the next', () =>
    withFifo(async ({ writer }) => {
      const fdsBefore = openFdCount();
      const loop = createLoop();
      const watcher = loop.io(writer, () => undefined).start(WRITABLE);
      expect(openFdCount()).toBe(fdsBefore + 2);
      watcher.stop();
      expect(openFdCount()).toBe(fdsBefore);
      watcher.start(WRITABLE);
      expect(openFdCount()).toBe(fdsBefore + 2);
      watcher.close();
      expect(openFdCount()).toBe(fdsBefore);
      await loop.run();
      loop.close();
      expect(openFdCount()).toBe(fdsBefore);
    }));

  it('frees the timerfd’s slot when it closes the timerfd: a later fd with that number can be watched', () =>
    withFifo(async ({ writer }) => {
      const loop = createLoop();
      const timer = loop.timer(() => undefined).start(1);
      await loop.run(); // opens the epoll fd and the timerfd, and gives them back when the run ends
      timer.close();
      await loop.run();
      // The lowest free numbers now include the old epoll fd's and timerfd's.
      const fds = Array.from({ length: 8 }, () => openSync(`/proc/self/fd/${writer}`, constants.O_WRONLY | constants.O_NONBLOCK));
      try {
        const watchers = fds.map((fd) => loop.io(fd, () => undefined));
        for (const watcher of watchers) watcher.close();
        await loop.run();
      } finally {
        for (const fd of fds) closeSync(fd);
      }
      loop.close();
    }));
});

describe('the fd table: what the loop cannot set up', () => {
  /** The real libc, except for the calls given. */
  function patched(overrides: Partial<Libc>): Libc {
    return Object.assign(Object.create(libc) as Libc, overrides);
  }

  for (const [errno, name] of [
    [24, 'EMFILE'],
    [23, 'ENFILE'],
  ] as const) {
    it(`refuses to watch an fd with the ${name} that kept it from making its epoll fd`, () =>
      withFifo(async ({ writer }) => {
        const fdsBefore = openFdCount();
        let failed = false;
        const loop = new EpollLoop(
          patched({
            epoll_create1: () => {
              failed = true;
              return -1;
            },
            errno: () => (failed ? errno : libc.errno()),
          }),
          {},
        );
        const watcher = loop.io(writer, () => undefined);
        expect(() => watcher.start(WRITABLE)).toThrow(`cannot watch fd ${writer}: ${name}`);
        watcher.close();
        await loop.run();
        loop.close();
        expect(openFdCount()).toBe(fdsBefore);
      }));
  }

  it('gives back, when it closes, the epoll fd that a refused watch opened outside a run', () =>
    withFifo(() => {
      const fdsBefore = openFdCount();
      const dir = mkdtempSync(join(tmpdir(), 'loop-fd-table-file-'));
      const file = openSync(join(dir, 'plain'), 'w');
      try {
        const loop = createLoop();
        const watcher = loop.io(file, () => undefined);
        expect(() => watcher.start(READABLE)).toThrow(/EPERM/); // epoll refuses a regular file
        expect(openFdCount()).toBe(fdsBefore + 3); // the file, the epoll fd and the timerfd
        loop.close(); // the watcher never started: nothing is live
        expect(openFdCount()).toBe(fdsBefore + 1);
      } finally {
        closeSync(file);
        rmSync(dir, { recursive: true, force: true });
      }
    }));

  it('fails a listen whose socket setup throws something else than an EventLoopError with ERR_SOCKET, the error as its cause', async () => {
    const boom = new Error('boom');
    const loop = new EpollLoop(
      patched({
        socket: () => {
          throw boom;
        },
      }),
      {},
    );
    const error = await loop.listen({ port: 0 }, () => undefined).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).message).toBe('socket setup failed');
    expect((error as SocketError).cause).toBe(boom);
    loop.close();
  });

  it('takes over an inherited listening fd without looking its host up', async () => {
    const fdsBefore = openFdCount();
    const fd = libc.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
    const address = Buffer.alloc(16);
    address.writeUInt16LE(AF_INET, 0);
    address.set([127, 0, 0, 1], 4);
    expect(libc.bind(fd, address, 16)).toBe(0);
    expect(libc.listen(fd, 16)).toBe(0);
    const loop = createLoop();
    // The host is not used for a taken-over fd, so a name that does not resolve does not matter.
    const server = await loop.listen({ fd, host: 'no-such-host.invalid' }, (stream) => stream.close());
    expect(server.address.address).toBe('127.0.0.1');
    server.close();
    await loop.run();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});

describe('the reserve fd and exclusive listeners', () => {
  /** How many of this process's fds are /dev/null. */
  function devNulls(): number {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === '/dev/null';
      } catch {
        return false;
      }
    }).length;
  }

  it('holds one /dev/null fd in reserve while any server listens, and gives it back when the last one stops', async () => {
    const before = devNulls();
    const loop = createLoop();
    const first = await loop.listen({ port: 0 }, () => undefined);
    expect(devNulls()).toBe(before + 1);
    const second = await loop.serveHttp({ port: 0 }, () => undefined);
    expect(devNulls()).toBe(before + 1);
    first.close();
    await loop.run('nowait'); // the second keeps the loop alive
    expect(devNulls()).toBe(before + 1);
    second.close();
    await loop.run();
    expect(devNulls()).toBe(before);
    loop.close();
  });

  /** Let the loop's pending tick (an immediate) run, so that it is back to waiting. */
  async function settled(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  it('accepts on an exclusive listener started before the run, from its pool-thread wait armed while the loop waits', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: string[] = [];
    const server = await loop.listen({ port: 0, exclusive: true }, (stream) => {
      accepted.push('accepted');
      stream.close();
      server.close();
    });
    const running = loop.run();
    await settled();
    const socket = await client(server.address.port); // nothing else wakes the loop now
    await within(running, 10_000, 'the exclusive accept');
    socket.destroy();
    expect(accepted).toEqual(['accepted']);
    expect(loop.stats.wakeups).toBe(1); // the pool thread's completion
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('accepts on an exclusive listener started while the loop waits', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: string[] = [];
    const keep = loop.timer(() => undefined).start(60_000); // the loop waits for it meanwhile
    const running = loop.run();
    const server = await loop.listen({ port: 0, exclusive: true }, (stream) => {
      accepted.push('accepted');
      stream.close();
      server.close();
      keep.close();
    });
    await settled();
    const socket = await client(server.address.port);
    await within(running, 10_000, 'the exclusive accept');
    socket.destroy();
    expect(accepted).toEqual(['accepted']);
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('does not wait for an exclusive listener while the loop is not running (before its first run or after one): a connection then wakes nothing, and the next run accepts it', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: string[] = [];
    const server = await loop.listen({ port: 0, exclusive: true }, (stream) => {
      accepted.push('accepted');
      stream.close();
    });
    /** Connect a client while the loop is not running; an armed wait would complete meanwhile. */
    const connectWhileIdle = async (): Promise<Socket> => {
      // A run that ended cancelled its pool wait; let that cancellation come back first (white box:
      // a connection racing it would be seen by the cancelled wait, as designed).
      const waiters = (loop as unknown as { waiters: Set<{ inFlight: boolean }> }).waiters;
      await within(
        (async () => {
          while ([...waiters].some((waiter) => waiter.inFlight)) await new Promise((resolve) => setTimeout(resolve, 1));
        })(),
        10_000,
        'the pool wait to be cancelled',
      );
      const wakeups = loop.stats.wakeups;
      const socket = await client(server.address.port);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(loop.stats.wakeups).toBe(wakeups);
      return socket;
    };
    const sockets = [await connectWhileIdle()]; // never run yet
    expect(accepted).toEqual([]);
    const timer = loop.timer(() => undefined).start(1);
    await loop.run('once'); // the loop waits (its pool wait armed), then the run ends
    timer.close();
    for (let i = 0; i < 5 && accepted.length < 1; i++) await loop.run('nowait');
    expect(accepted).toEqual(['accepted']);
    sockets.push(await connectWhileIdle()); // after a run
    expect(accepted).toEqual(['accepted']);
    for (let i = 0; i < 5 && accepted.length < 2; i++) await loop.run('nowait');
    expect(accepted).toEqual(['accepted', 'accepted']);
    for (const socket of sockets) socket.destroy();
    server.close();
    await loop.run();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('accepts on an exclusive listener in nowait runs, which look without waiting', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const accepted: string[] = [];
    const server = await loop.listen({ port: 0, exclusive: true }, (stream) => {
      accepted.push('accepted');
      stream.close();
    });
    const socket = await client(server.address.port);
    for (let i = 0; i < 5 && accepted.length === 0; i++) await loop.run('nowait');
    expect(accepted).toEqual(['accepted']);
    socket.destroy();
    server.close();
    await loop.run();
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });
});

