import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SocketError, type EventLoopError, type TcpServer, type TcpStream } from '@loop/core';
import { EAGAIN, EINTR, ENOMEM, EPOLLET, EPOLLIN, EPOLLOUT, EPOLLRDHUP, IPPROTO_TCP, TCP_NODELAY } from '../src/constants.js';
import { EpollLoop, type TriggerMode } from '../src/epoll-loop.js';
import { loadLibc, type Libc } from '../src/libc.js';
import type { EpollTcpStream } from '../src/tcp-stream.js';
import { openFdCount, within } from './http-helpers.js';

const realLibc = loadLibc();

// Linux errnos not in the package's constants.
const EPIPE = 32;
const ECONNRESET = 104;

/** Failures to inject into the accepted stream's fd: each call takes the next errno of its list. */
interface Faults {
  /** The fd the faults apply to (the accepted stream's); -1 until accepted. */
  fd: number;
  /** An errno fails the call; `{ take }` lets it send at most that many bytes. */
  send: (number | { take: number })[];
  writev: number[];
  read: number[];
  /** epoll_ctl(EPOLL_CTL_MOD) on the stream's fd. */
  rewatch: number[];
  /** Every epoll_ctl call made (on any fd): operation, fd and the events asked for. */
  ctl: { op: number; fd: number; events: number | undefined }[];
}

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_MOD = 3;

/** The real libc, except that calls on `faults.fd` fail with the errnos queued in `faults`. */
function faultyLibc(faults: Faults): Libc {
  const libc: Libc = Object.create(realLibc) as Libc;
  let pending: number | undefined;
  const fail = (list: number[]): boolean => {
    const errno = list.shift();
    if (errno === undefined) return false;
    pending = errno;
    return true;
  };
  libc.errno = () => {
    const errno = pending ?? realLibc.errno();
    pending = undefined;
    return errno;
  };
  libc.send = (fd, buffer, length, flags) => {
    if (fd === faults.fd) {
      const next = faults.send[0];
      if (typeof next === 'object') {
        faults.send.shift();
        return realLibc.send(fd, buffer, Math.min(length, next.take), flags);
      }
      if (fail(faults.send as number[])) return -1;
    }
    return realLibc.send(fd, buffer, length, flags);
  };
  libc.writev = (fd, iov, count) => (fd === faults.fd && fail(faults.writev) ? -1 : realLibc.writev(fd, iov, count));
  libc.read = (fd, buffer, length) => (fd === faults.fd && fail(faults.read) ? -1 : realLibc.read(fd, buffer, length));
  libc.epoll_ctl = (epfd, op, fd, event) => {
    faults.ctl.push({ op, fd, events: event === null ? undefined : Buffer.from(event.buffer, event.byteOffset, 4).readUInt32LE(0) });
    return fd === faults.fd && op === EPOLL_CTL_MOD && fail(faults.rewatch) ? -1 : realLibc.epoll_ctl(epfd, op, fd, event);
  };
  return libc;
}

interface Pair {
  loop: EpollLoop;
  /** The accepted stream (its fd is where the faults apply). */
  stream: EpollTcpStream;
  /** The Node client connected to it. */
  peer: Socket;
  faults: Faults;
  errors: unknown[];
  /** Every byte the peer received until it saw the end. */
  peerReceived(): Promise<Buffer>;
  /** Resolves with the close callback's error once the stream closed. */
  closed: Promise<EventLoopError | undefined>;
}

/** An accepted stream on a running loop (with a fault-injecting libc) and its Node peer; everything is closed and no fd may leak. */
async function withPair(trigger: TriggerMode, fn: (pair: Pair) => Promise<void>): Promise<void> {
  const fdsBefore = openFdCount();
  const faults: Faults = { fd: -1, send: [], writev: [], read: [], rewatch: [], ctl: [] };
  const errors: unknown[] = [];
  const loop = new EpollLoop(faultyLibc(faults), { trigger, onError: (error) => errors.push(error) });
  let accepted!: (stream: EpollTcpStream) => void;
  const acceptedStream = new Promise<EpollTcpStream>((resolve) => (accepted = resolve));
  const server: TcpServer = await loop.listen({ host: '127.0.0.1', port: 0 }, (stream: TcpStream) => accepted(stream as EpollTcpStream));
  const running = loop.run();
  // Half-open allowed: the peer ends its side only when a test says so.
  const peer = connect({ host: '127.0.0.1', port: server.address.port, allowHalfOpen: true });
  await new Promise((resolve, reject) => {
    peer.once('connect', resolve);
    peer.once('error', reject);
  });
  const received: Buffer[] = [];
  const peerEnded = new Promise<Buffer>((resolve) => {
    peer.on('data', (chunk: Buffer) => received.push(chunk));
    peer.on('end', () => resolve(Buffer.concat(received)));
  });
  peer.on('error', () => undefined);
  let stream: EpollTcpStream | undefined;
  try {
    stream = await within(acceptedStream, 10_000, 'the connection to be accepted');
    faults.fd = stream.fd;
    let onClose!: (error: EventLoopError | undefined) => void;
    const closed = new Promise<EventLoopError | undefined>((resolve) => (onClose = resolve));
    stream.on({ close: (error) => onClose(error) });
    await fn({ loop, stream, peer, faults, errors, closed, peerReceived: () => within(peerEnded, 10_000, 'the peer to see the end') });
  } finally {
    stream?.close();
    peer.destroy();
    server.close();
    await within(running, 10_000, 'the loop to finish');
  }
  loop.close();
  expect(openFdCount()).toBe(fdsBefore);
}

/** Resolves after the loop ran `count` more iterations (a loop timer, once per iteration). */
function iterations(loop: EpollLoop, count: number): Promise<void> {
  return new Promise((resolve) => {
    let left = count;
    const timer = loop.timer(() => {
      left--;
      if (left > 0) return;
      timer.close();
      resolve();
    });
    timer.start(0, 1);
  });
}

/** Resolves once `total` bytes reached `chunks` (a data callback's list). */
async function until(check: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    10_000,
    what,
  );
}

/** Count the readiness events the loop hands to `stream` from now on. */
function countEvents(stream: EpollTcpStream): () => number {
  let count = 0;
  const ioEvent = stream.ioEvent.bind(stream);
  stream.ioEvent = (events: number) => {
    count++;
    ioEvent(events);
  };
  return () => count;
}

function causeOf(error: EventLoopError | undefined): NodeJS.ErrnoException {
  return (error as { cause: NodeJS.ErrnoException }).cause;
}

describe('epoll TCP stream: writing through send(2) faults', () => {
  it('retries a send interrupted by a signal (EINTR): nothing is queued and the peer gets every byte', () =>
    withPair('level', async ({ stream, faults, peerReceived, errors }) => {
      faults.send.push(EINTR);
      expect(stream.write('hello')).toBe(true);
      expect(stream.bufferedAmount).toBe(0);
      stream.end();
      expect((await peerReceived()).toString()).toBe('hello');
      expect(errors).toEqual([]);
    }));

  it('queues the whole chunk when the socket buffer is full (EAGAIN), keeps later writes behind it, and sends both once writable', () =>
    withPair('level', async ({ stream, faults, peerReceived, errors }) => {
      faults.send.push(EAGAIN);
      expect(stream.write('first ')).toBe(true);
      expect(stream.bufferedAmount).toBe(6);
      expect(stream.write(Buffer.from('second'))).toBe(true);
      expect(stream.bufferedAmount).toBe(12);
      stream.end(' third');
      expect(stream.writable).toBe(false);
      expect((await peerReceived()).toString()).toBe('first second third');
      expect(stream.bufferedAmount).toBe(0);
      expect(errors).toEqual([]);
    }));

  it('edge-triggered too: a chunk queued on EAGAIN goes out once the socket is writable', () =>
    withPair('edge', async ({ stream, faults, peerReceived, errors }) => {
      faults.send.push(EAGAIN);
      expect(stream.write('queued')).toBe(true);
      expect(stream.bufferedAmount).toBe(6);
      stream.end();
      expect((await peerReceived()).toString()).toBe('queued');
      expect(errors).toEqual([]);
    }));

  it('a send failing inside write() (EPIPE) makes the stream unwritable at once and closes it in a later poll phase with an ERR_SOCKET naming write', () =>
    withPair('level', async ({ stream, faults, closed, errors }) => {
      faults.send.push(EPIPE);
      const order: string[] = [];
      void closed.then(() => order.push('closed'));
      stream.write('lost');
      order.push('write returned');
      expect(stream.writable).toBe(false);
      expect(stream.write('more')).toBe(false);
      expect(stream.bufferedAmount).toBe(0);
      const error = await within(closed, 10_000, 'the close');
      expect(order).toEqual(['write returned', 'closed']);
      expect(error).toBeInstanceOf(SocketError);
      expect((error as SocketError).errno).toBe('EPIPE');
      expect(error?.message).toBe('socket error: EPIPE');
      expect(causeOf(error).syscall).toBe('write');
      expect(errors).toEqual([]);
    }));

  it('a queued flush failing (EPIPE) closes the stream with an ERR_SOCKET naming write', () =>
    withPair('level', async ({ stream, faults, closed, errors }) => {
      faults.send.push(EAGAIN, EPIPE);
      stream.write('never sent');
      expect(stream.bufferedAmount).toBe(10);
      const error = await within(closed, 10_000, 'the close');
      expect((error as SocketError).errno).toBe('EPIPE');
      expect(causeOf(error).syscall).toBe('write');
      expect(stream.bufferedAmount).toBe(0);
      expect(errors).toEqual([]);
    }));

  for (const trigger of ['level', 'edge'] as const) {
    it(`${trigger}-triggered: failing to register for writability (epoll_ctl) drops the queued bytes and closes the stream with ERR_SOCKET`, () =>
      withPair(trigger, async ({ stream, faults, closed, errors }) => {
        faults.send.push(EAGAIN);
        faults.rewatch.push(ENOMEM);
        stream.write('stuck');
        expect(faults.rewatch).toEqual([]);
        expect(stream.bufferedAmount).toBe(0);
        expect(stream.writable).toBe(false);
        const error = await within(closed, 10_000, 'the close');
        expect((error as SocketError).errno).toBe('ENOMEM');
        expect(errors).toEqual([]);
      }));
  }

  it('write() returns false once 64 KiB are queued (not before), and drain runs once when the queue empties', () =>
    withPair('level', async ({ stream, faults, peerReceived, errors }) => {
      const drains: number[] = [];
      stream.on({ drain: () => drains.push(stream.bufferedAmount) });
      faults.send.push(EAGAIN);
      expect(stream.write(Buffer.alloc(64 * 1024 - 1, 1))).toBe(true);
      expect(stream.write(Buffer.alloc(1, 2))).toBe(false);
      expect(stream.bufferedAmount).toBe(64 * 1024);
      // The first flush (one writev for the two chunks) finds the socket full: no drain yet.
      faults.writev.push(EAGAIN);
      await until(() => drains.length > 0, 'the drain');
      expect(drains).toEqual([0]);
      // A later queued write that never reached the mark brings no second drain.
      faults.send.push(EAGAIN);
      expect(stream.write('x')).toBe(true);
      stream.end();
      const received = await peerReceived();
      expect(received.length).toBe(64 * 1024 + 1);
      expect(received[64 * 1024 - 1]).toBe(2);
      expect(drains).toEqual([0]);
      expect(errors).toEqual([]);
    }));

  it('a queue that empties without write() having returned false brings no drain', () =>
    withPair('level', async ({ stream, faults, peerReceived, errors }) => {
      const drains: number[] = [];
      stream.on({ drain: () => drains.push(stream.bufferedAmount) });
      faults.send.push(EAGAIN);
      expect(stream.write('small')).toBe(true);
      stream.end();
      expect((await peerReceived()).toString()).toBe('small');
      expect(drains).toEqual([]);
      expect(errors).toEqual([]);
    }));

  it('end() with bytes still queued sends the FIN only after them', () =>
    withPair('level', async ({ stream, faults, peer, peerReceived, errors }) => {
      const seen: string[] = [];
      peer.on('data', () => seen.push('data'));
      peer.on('end', () => seen.push('end'));
      faults.send.push(EAGAIN);
      stream.write('before the end');
      stream.end();
      expect((await peerReceived()).toString()).toBe('before the end');
      expect(seen).toEqual(['data', 'end']);
      expect(errors).toEqual([]);
    }));

  it('sends long strings (more than the scratch buffer holds once encoded) whole', () =>
    withPair('level', async ({ stream, peerReceived, errors }) => {
      const long = '€'.repeat(20_000); // 60,000 bytes of UTF-8
      const short = 'ü'.repeat(16 * 1024); // exactly the scratch limit in UTF-16 units
      stream.write(short);
      stream.write(long);
      stream.end();
      expect((await peerReceived()).toString()).toBe(short + long);
      expect(errors).toEqual([]);
    }));
});

describe('epoll TCP stream: reading through read(2) faults', () => {
  it('retries a read interrupted by a signal (EINTR) and delivers the data', () =>
    withPair('level', async ({ stream, peer, faults, errors }) => {
      const chunks: string[] = [];
      faults.read.push(EINTR);
      stream.on({ data: (chunk) => chunks.push(Buffer.from(chunk).toString()) });
      peer.write('ping');
      await until(() => chunks.join('') === 'ping', 'the data');
      expect(stream.isClosing()).toBe(false);
      expect(errors).toEqual([]);
    }));

  it('a read that finds nothing (EAGAIN, a spurious wake-up) leaves the stream open, and the data comes on the next readiness', () =>
    withPair('level', async ({ stream, peer, faults, errors }) => {
      const chunks: string[] = [];
      faults.read.push(EAGAIN);
      stream.on({ data: (chunk) => chunks.push(Buffer.from(chunk).toString()) });
      peer.write('ping');
      await until(() => chunks.join('') === 'ping', 'the data');
      expect(faults.read).toEqual([]);
      expect(stream.isClosing()).toBe(false);
      expect(errors).toEqual([]);
    }));

  it('a read failing (ECONNRESET) closes the stream with an ERR_SOCKET naming read', () =>
    withPair('level', async ({ stream, peer, faults, closed, errors }) => {
      faults.read.push(ECONNRESET);
      stream.on({ data: () => undefined });
      peer.write('ping');
      const error = await within(closed, 10_000, 'the close');
      expect((error as SocketError).errno).toBe('ECONNRESET');
      expect(error?.message).toBe('socket error: ECONNRESET');
      expect(causeOf(error).syscall).toBe('read');
      expect(errors).toEqual([]);
    }));

  it('a peer reset reaches a stream that does not read as a close with ECONNRESET', () =>
    withPair('level', async ({ peer, closed, errors }) => {
      peer.resetAndDestroy();
      const error = await within(closed, 10_000, 'the close');
      expect((error as SocketError).errno).toBe('ECONNRESET');
      expect(causeOf(error).syscall).toBe('read');
      expect(errors).toEqual([]);
    }));

  it('an error thrown by the data callback goes to the loop error handler and reading goes on', () =>
    withPair('level', async ({ stream, peer, errors }) => {
      const chunks: string[] = [];
      stream.on({
        data: (chunk) => {
          chunks.push(Buffer.from(chunk).toString());
          if (chunks.length === 1) throw new Error('from data');
        },
      });
      peer.write('one');
      await until(() => chunks.length === 1, 'the first chunk');
      peer.write('two');
      await until(() => chunks.join('') === 'onetwo', 'the second chunk');
      expect(errors.map((error) => (error as Error).message)).toEqual(['from data']);
    }));
});

describe('epoll TCP stream: pause and resume', () => {
  for (const trigger of ['level', 'edge'] as const) {
    it(`${trigger}-triggered: no data runs while paused, and resume() delivers what arrived meanwhile without new bytes`, () =>
      withPair(trigger, async ({ stream, peer, errors }) => {
        const chunks: string[] = [];
        stream.on({
          data: (chunk) => {
            chunks.push(Buffer.from(chunk).toString());
            stream.pause();
          },
        });
        const events = countEvents(stream);
        peer.write('first');
        await until(() => chunks.length === 1, 'the first chunk');
        const atPause = events();
        await new Promise<void>((resolve) => peer.write('second', () => resolve()));
        await iterations(stream.loop, 3);
        expect(chunks).toEqual(['first']);
        // Level-triggered, the fd no longer asks for input; edge-triggered, the new bytes bring one edge.
        expect(events() - atPause).toBe(trigger === 'level' ? 0 : 1);
        stream.resume();
        await until(() => chunks.length === 2, 'the data that waited');
        expect(chunks).toEqual(['first', 'second']);
        expect(errors).toEqual([]);
      }));
  }

  it('edge-triggered: a stream paused by its data callback in the middle of a burst gets all of it after resume()', () =>
    withPair('edge', async ({ stream, peer, errors }) => {
      let total = 0;
      let paused = false;
      const whilePaused: number[] = [];
      stream.on({
        data: (chunk) => {
          if (paused) whilePaused.push(chunk.byteLength);
          total += chunk.byteLength;
          stream.pause();
          paused = true;
          setTimeout(() => {
            paused = false;
            stream.resume();
          }, 0);
        },
      });
      const size = 1024 * 1024;
      peer.end(Buffer.alloc(size, 7));
      await until(() => total === size, 'the whole burst');
      expect(whilePaused).toEqual([]);
      expect(errors).toEqual([]);
    }));
});

describe('epoll TCP stream: socket options and endpoints', () => {
  it('setNoDelay() sets and clears TCP_NODELAY on the socket', () =>
    withPair('level', async ({ stream }) => {
      const read = (): number => {
        const value = Buffer.alloc(4);
        const length = Buffer.alloc(4);
        length.writeUInt32LE(4, 0);
        expect(realLibc.getsockopt(stream.fd, IPPROTO_TCP, TCP_NODELAY, value, length)).toBe(0);
        return value.readInt32LE(0);
      };
      expect(stream.setNoDelay(true)).toBe(stream);
      expect(read()).not.toBe(0);
      stream.setNoDelay(false);
      expect(read()).toBe(0);
      await Promise.resolve();
    }));

  it('after close(), setNoDelay() is a no-op returning the stream and both endpoints are undefined', () =>
    withPair('level', async ({ stream, peer }) => {
      expect(stream.localAddress?.port).toBeGreaterThan(0);
      expect(stream.remoteAddress?.port).toBe(peer.localPort);
      stream.close();
      expect(stream.setNoDelay(true)).toBe(stream);
      expect(stream.localAddress).toBeUndefined();
      expect(stream.remoteAddress).toBeUndefined();
      await Promise.resolve();
    }));
});

describe('epoll TCP stream: the end of each direction', () => {
  it("the peer's end reaches a stream without a data callback; the stream stays writable until its own end(), which closes it", () =>
    withPair('level', async ({ stream, peer, closed, peerReceived, errors }) => {
      const order: string[] = [];
      stream.on({ end: () => order.push('end') });
      const events = countEvents(stream);
      peer.end();
      await until(() => order.length === 1, 'the end');
      const atEnd = events();
      await iterations(stream.loop, 3);
      expect(events()).toBe(atEnd); // the peer's FIN is reported once
      expect(stream.writable).toBe(true);
      expect(stream.isClosing()).toBe(false);
      stream.write('still ');
      stream.end('open');
      expect(await within(closed, 10_000, 'the close')).toBeUndefined();
      expect((await peerReceived()).toString()).toBe('still open');
      expect(order).toEqual(['end']);
      expect(errors).toEqual([]);
    }));

  it("after its own end(), the peer's end closes the stream without an error", () =>
    withPair('level', async ({ stream, peer, closed, peerReceived, errors }) => {
      const chunks: string[] = [];
      stream.on({ data: (chunk) => chunks.push(Buffer.from(chunk).toString()) });
      stream.end('bye');
      expect((await peerReceived()).toString()).toBe('bye');
      expect(stream.isClosing()).toBe(false);
      peer.end('late');
      expect(await within(closed, 10_000, 'the close')).toBeUndefined();
      expect(chunks.join('')).toBe('late');
      expect(errors).toEqual([]);
    }));

  it('level-triggered: a paused stream whose connection hung up entirely keeps the data, and resume() delivers all of it and the end', () =>
    withPair('level', async ({ stream, peer, closed, peerReceived, errors }) => {
      const seen: string[] = [];
      stream.on({ data: (chunk) => seen.push(Buffer.from(chunk).toString()), end: () => seen.push('end') });
      stream.pause();
      stream.end();
      await peerReceived();
      // Small enough for our receive buffer: with more, the peer's FIN waits for us to read, and
      // without it there is no hang-up to see.
      const size = 4 * 1024;
      const events = countEvents(stream);
      peer.end(Buffer.alloc(size, 'a'));
      // Both directions are shut: epoll reports EPOLLHUP, which no interest mask can hold back.
      await new Promise((resolve) => peer.once('close', resolve));
      await iterations(stream.loop, 3);
      const afterHangUp = events();
      await iterations(stream.loop, 3);
      // Reported once, then the fd left epoll (a hang-up cannot be masked: it would wake every poll).
      expect(events()).toBe(afterHangUp);
      expect(afterHangUp).toBeGreaterThanOrEqual(1);
      expect(afterHangUp).toBeLessThanOrEqual(2);
      expect(seen).toEqual([]);
      expect(stream.isClosing()).toBe(false);
      stream.resume();
      expect(await within(closed, 10_000, 'the close')).toBeUndefined();
      expect(seen.at(-1)).toBe('end');
      expect(seen.slice(0, -1).join('').length).toBe(size);
      expect(errors).toEqual([]);
    }));

  it('edge-triggered: the fd is added once for reading, and modified once, to add EPOLLOUT, the first time a write has to wait', () =>
    withPair('edge', async ({ stream, faults, peerReceived, errors }) => {
      const mine = (): { op: number; events: number | undefined }[] => faults.ctl.filter((call) => call.fd === stream.fd).map(({ op, events }) => ({ op, events }));
      stream.on({ data: () => undefined });
      stream.pause().resume();
      expect(mine()).toEqual([{ op: EPOLL_CTL_ADD, events: (EPOLLIN | EPOLLRDHUP | EPOLLET) >>> 0 }]);
      faults.send.push(EAGAIN);
      stream.write('wait');
      // Still queued: nothing here may modify the registration again.
      stream.pause().resume();
      stream.write(' and more');
      expect(stream.bufferedAmount).toBe(13);
      await until(() => stream.bufferedAmount === 0, 'the flush');
      stream.write(' after');
      stream.pause().resume();
      stream.end();
      expect((await peerReceived()).toString()).toBe('wait and more after');
      expect(mine()).toEqual([
        { op: EPOLL_CTL_ADD, events: (EPOLLIN | EPOLLRDHUP | EPOLLET) >>> 0 },
        { op: EPOLL_CTL_MOD, events: (EPOLLIN | EPOLLRDHUP | EPOLLET | EPOLLOUT) >>> 0 },
      ]);
      expect(errors).toEqual([]);
    }));
});

describe('epoll TCP stream: more misuse and failure paths', () => {
  it('level-triggered: one read per readiness event, so a burst is delivered over several poll phases', () =>
    withPair('level', async ({ stream, peer, errors }) => {
      const perIteration: number[] = [];
      let count = 0;
      const hook = stream.loop.check(() => {
        if (count > 0) perIteration.push(count);
        count = 0;
      });
      hook.start();
      let total = 0;
      stream.on({
        data: (chunk) => {
          count++;
          total += chunk.byteLength;
        },
      });
      const size = 512 * 1024;
      await new Promise<void>((resolve) => peer.write(Buffer.alloc(size, 1), () => resolve()));
      await until(() => total === size, 'the burst');
      await iterations(stream.loop, 1);
      hook.close();
      expect(perIteration.length).toBeGreaterThan(1);
      expect(Math.max(...perIteration)).toBe(1);
      expect(errors).toEqual([]);
    }));

  it('a second end() is ignored: nothing more is sent and the stream closes without an error', () =>
    withPair('level', async ({ stream, peer, closed, peerReceived, errors }) => {
      stream.end('once');
      stream.end('twice');
      expect((await peerReceived()).toString()).toBe('once');
      peer.end();
      expect(await within(closed, 10_000, 'the close')).toBeUndefined();
      expect(errors).toEqual([]);
    }));

  it('end() with something that is not a chunk throws ERR_INVALID_ARG, even on a stream that no longer writes, and sends nothing', () =>
    withPair('level', async ({ stream, peerReceived, errors }) => {
      expect(() => stream.end(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
      expect(stream.writable).toBe(true);
      stream.end('ok');
      expect(() => stream.end({} as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
      expect((await peerReceived()).toString()).toBe('ok');
      expect(errors).toEqual([]);
    }));

  it("an error thrown by the drain callback goes to the loop's error handler and the stream goes on", () =>
    withPair('level', async ({ stream, faults, peerReceived, errors }) => {
      stream.on({
        drain: () => {
          throw new Error('from drain');
        },
      });
      faults.send.push(EAGAIN);
      expect(stream.write(Buffer.alloc(64 * 1024, 3))).toBe(false);
      await until(() => errors.length === 1, 'the drain');
      stream.end('!');
      expect((await peerReceived()).length).toBe(64 * 1024 + 1);
      expect(errors.map((error) => (error as Error).message)).toEqual(['from drain']);
    }));

  it('level-triggered: once the queue is written out, the fd stops asking for writability', () =>
    withPair('level', async ({ stream, faults, errors }) => {
      const events = countEvents(stream);
      faults.send.push(EAGAIN);
      stream.write('x');
      await until(() => stream.bufferedAmount === 0, 'the flush');
      const flushed = events();
      await iterations(stream.loop, 3);
      expect(events()).toBe(flushed);
      expect(errors).toEqual([]);
    }));

  it("an fd watcher cannot be put on a stream's socket", () =>
    withPair('level', async ({ stream }) => {
      expect(() => stream.loop.io(stream.fd, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
      await Promise.resolve();
    }));

});
