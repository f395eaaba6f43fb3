import { describe, expect, it, vi } from 'vitest';
import { SocketError } from '@loop/core';
import { EpollPoller, type PolledLoop } from '../src/epoll-poller.js';
import { loadLibc, type Libc } from '../src/libc.js';
import { openFdCount, within } from './http-helpers.js';

const libc = loadLibc();

/** The real libc, with every timerfd_settime recorded as [it_value seconds low, high, nanoseconds] or 'disarm'. */
function recordingLibc(): { libc: Libc; settimes: (string | number[])[] } {
  const settimes: (string | number[])[] = [];
  const wrapped: Libc = Object.create(libc) as Libc;
  wrapped.timerfd_settime = (fd, flags, value, old) => {
    const words = new Int32Array(value.buffer, value.byteOffset, 8);
    settimes.push(words.every((word) => word === 0) ? 'disarm' : [...words]);
    return libc.timerfd_settime(fd, flags, value, old);
  };
  return { libc: wrapped, settimes };
}

/** A loop as the poller sees it, recording what the poller tells it. */
class FakeLoop implements PolledLoop {
  readonly calls: string[] = [];
  polling = true;
  registered = 0;
  failTick: Error | undefined;
  readonly reported: unknown[] = [];
  pollTick(): void {
    this.calls.push('tick');
    if (this.failTick) throw this.failTick;
  }
  isPolling(): boolean {
    return this.polling;
  }
  report(error: unknown): void {
    this.reported.push(error);
  }
  countWakeup(): void {
    this.calls.push('wakeup');
  }
  registeredCount(): number {
    return this.registered;
  }
  timerFdChanged(fd: number, open: boolean): void {
    this.calls.push(`timerfd ${open ? 'open' : 'closed'} ${fd >= 0 ? 'fd' : fd}`);
  }
  waitingChanged(waiting: boolean): void {
    this.calls.push(`waiting ${waiting}`);
  }
}

const encode = (() => {
  const buffer = Buffer.alloc(libc.epollEventSize);
  return (events: number, fd: number, token: number): Uint8Array => {
    buffer.fill(0);
    buffer.writeUInt32LE(events >>> 0, 0);
    buffer.writeInt32LE(fd, libc.epollDataOffset);
    buffer.writeUInt32LE(token, libc.epollDataOffset + 4);
    return buffer;
  };
})();

/** Run `fn` with a poller on a fake loop; afterwards the poller is closed and no fd is left open. */
async function withPoller(fn: (poller: EpollPoller, loop: FakeLoop, settimes: (string | number[])[]) => Promise<void> | void): Promise<void> {
  const fdsBefore = openFdCount();
  const { libc: recording, settimes } = recordingLibc();
  const loop = new FakeLoop();
  const poller = new EpollPoller(recording, loop, encode);
  try {
    await within(Promise.resolve(fn(poller, loop, settimes)), 10_000, 'poller test');
  } finally {
    poller.close();
  }
  expect(openFdCount()).toBe(fdsBefore);
}

const nextImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Events ready in the poller's epoll set now (a zero-timeout epoll_wait). */
function readyNow(poller: EpollPoller): number {
  return libc.epoll_wait(poller.epollFd, Buffer.alloc(libc.epollEventSize * 4), 4, 0);
}

describe('EpollPoller: the timerfd', () => {
  it('arms the timerfd for the timeout in whole microseconds rounded up, split into seconds and nanoseconds', () =>
    withPoller((poller, _loop, settimes) => {
      poller.poll(2500.25);
      poller.poll(0.0004);
      poller.poll(999.9999991);
      expect(settimes).toEqual([
        [0, 0, 0, 0, 2, 0, 500_250_000, 0],
        [0, 0, 0, 0, 0, 0, 1_000, 0],
        [0, 0, 0, 0, 1, 0, 0, 0],
      ]);
    }));

  it('arms a timeout beyond 2^32 seconds with both halves of the 64-bit tv_sec', () =>
    withPoller((poller, _loop, settimes) => {
      poller.poll((2 ** 32 + 3) * 1000 + 7);
      expect(settimes).toEqual([[0, 0, 0, 0, 3, 1, 7_000_000, 0]]);
    }));

  it('disarms an armed timerfd for an infinite wait, once, and never touches an unarmed one', () =>
    withPoller((poller, _loop, settimes) => {
      poller.poll(Infinity);
      expect(settimes).toEqual([]);
      poller.poll(50);
      poller.poll(Infinity);
      poller.poll(Infinity);
      expect(settimes).toEqual([[0, 0, 0, 0, 0, 0, 50_000_000, 0], 'disarm']);
    }));

  it('disarms the timerfd when a run ends while fds stay registered, and keeps its fds for the next run', () =>
    withPoller((poller, loop, settimes) => {
      loop.registered = 1;
      poller.poll(50);
      const epollFd = poller.epollFd;
      poller.release();
      expect(settimes).toEqual([[0, 0, 0, 0, 0, 0, 50_000_000, 0], 'disarm']);
      expect(poller.epollFd).toBe(epollFd);
      expect(loop.calls).toEqual(['timerfd open fd', 'waiting true', 'waiting false']);
    }));

  it('gives its fds back when a run ends with nothing registered, and tells the loop the timerfd is gone', () =>
    withPoller((poller, loop) => {
      const fdsBefore = openFdCount();
      poller.poll(50);
      expect(openFdCount()).toBe(fdsBefore + 2);
      poller.release();
      expect([poller.epollFd, poller.timerFd]).toEqual([-1, -1]);
      expect(openFdCount()).toBe(fdsBefore);
      expect(loop.calls).toEqual(['timerfd open fd', 'waiting true', 'waiting false', 'timerfd closed fd']);
    }));

  it('drains an expired timerfd in ioEvent, so that (level-triggered) it stops being ready', () =>
    withPoller(async (poller, loop) => {
      loop.polling = false; // the host wake-ups then run no tick
      poller.poll(0.001);
      while (readyNow(poller) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      poller.ioEvent();
      expect(readyNow(poller)).toBe(0);
    }));
});

describe('EpollPoller: wake-ups and ticks', () => {
  it('runs one tick for any number of wake() calls before it, and none after release()', () =>
    withPoller(async (poller, loop) => {
      poller.wake();
      poller.wake();
      await nextImmediate();
      await nextImmediate();
      expect(loop.calls).toEqual(['tick']);
      poller.wake();
      poller.release();
      await nextImmediate();
      await nextImmediate();
      expect(loop.calls).toEqual(['tick', 'waiting false']);
    }));

  it('takes poll(0) as a wake-up: a tick soon, and no fd opened for it', () =>
    withPoller(async (poller, loop) => {
      poller.poll(0);
      expect(poller.epollFd).toBe(-1);
      await nextImmediate();
      expect(loop.calls).toEqual(['tick']);
    }));

  it('cancels a pending wake-up when it closes', () =>
    withPoller(async (poller, loop) => {
      poller.open();
      poller.wake();
      poller.close();
      await nextImmediate();
      await nextImmediate();
      expect(loop.calls).toEqual(['timerfd open fd', 'timerfd closed fd']);
    }));

  it('counts a host wake-up and runs a tick from it only while the loop is in its poll phase', () =>
    withPoller(async (poller, loop) => {
      loop.registered = 1;
      loop.polling = false;
      poller.poll(0.001);
      while (!loop.calls.includes('wakeup')) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(loop.calls).not.toContain('tick');
      poller.ioEvent();
      loop.polling = true;
      poller.poll(0.001);
      while (!loop.calls.includes('tick')) await new Promise((resolve) => setTimeout(resolve, 5));
      poller.release();
      expect(loop.calls.filter((call) => call === 'tick' || call === 'wakeup').slice(-2)).toEqual(['wakeup', 'tick']);
    }));

  it('reports an error escaping a tick run from a host wake-up instead of letting it unwind into libuv', () =>
    withPoller(async (poller, loop) => {
      loop.failTick = new Error('loop bug');
      poller.poll(0.001);
      while (loop.reported.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      poller.ioEvent();
      poller.release();
      expect(loop.reported[0]).toBe(loop.failTick);
    }));
});

/** The real libc except that `call` fails with `errno` (when `when` says so). */
function failing(call: 'epoll_create1' | 'timerfd_create' | 'epoll_ctl', errno: number): Libc {
  const wrapped: Libc = Object.create(libc) as Libc;
  let failed = false;
  wrapped.errno = () => (failed ? errno : libc.errno());
  (wrapped as unknown as Record<string, () => number>)[call] = () => {
    failed = true;
    return -1;
  };
  return wrapped;
}

describe('EpollPoller: what it cannot open', () => {
  for (const [call, message] of [
    ['epoll_create1', 'epoll_create1 failed: EMFILE'],
    ['timerfd_create', 'timerfd_create failed: EMFILE'],
    ['epoll_ctl', 'epoll_ctl on the timerfd failed: EMFILE'],
  ] as const) {
    it(`throws a SocketError naming ${call} when it fails, and leaves no fd open`, () => {
      const fdsBefore = openFdCount();
      const loop = new FakeLoop();
      const poller = new EpollPoller(failing(call, 24), loop, encode);
      let error: unknown;
      try {
        poller.open();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SocketError);
      expect((error as SocketError).message).toBe(message);
      expect((error as SocketError).errno).toBe('EMFILE');
      expect(((error as SocketError).cause as { syscall?: string }).syscall).toBe(call);
      expect(poller.epollFd).toBe(-1);
      expect(loop.calls).toEqual([]);
      expect(openFdCount()).toBe(fdsBefore);
    });
  }

  it('throws a SocketError when Node’s loop cannot watch the epoll fd, and leaves no fd open', () => {
    const fdsBefore = openFdCount();
    // An "epoll fd" that is /dev/null: uv_poll_init refuses a file that epoll cannot poll.
    const wrapped: Libc = Object.create(libc) as Libc;
    wrapped.epoll_create1 = () => libc.open('/dev/null', 0o2000000);
    wrapped.epoll_ctl = () => 0;
    const poller = new EpollPoller(wrapped, new FakeLoop(), encode);
    expect(() => poller.open()).toThrow(/^cannot watch the epoll fd from Node’s loop/);
    expect(poller.epollFd).toBe(-1);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('reports the failure of its first wait and waits on a Node timer instead (a far or infinite wait too), which release() clears', async () => {
    const loop = new FakeLoop();
    const poller = new EpollPoller(failing('epoll_create1', 24), loop, encode);
    const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const ticks = (): number => loop.calls.filter((call) => call === 'tick').length;
    const ticked = async (count: number): Promise<void> => {
      while (ticks() < count) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const before = timers();
    poller.poll(5);
    poller.poll(5); // one fallback timer at a time
    expect(loop.reported.map((error) => (error as Error).message)).toEqual(['epoll_create1 failed: EMFILE', 'epoll_create1 failed: EMFILE']);
    expect(timers()).toBe(before + 1);
    await within(ticked(1), 10_000, 'the fallback tick');
    expect(timers()).toBe(before);
    // A wait beyond setTimeout's range is capped to it (not cut to 1 ms by Node's overflow rule).
    poller.poll(2 ** 40);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticks()).toBe(1);
    const waiting = timers();
    poller.release();
    expect(timers()).toBe(waiting - 1);
    // An infinite wait still comes back (once a second) to try again.
    poller.poll(Infinity);
    await within(ticked(2), 10_000, 'the fallback tick of an infinite wait');
    poller.release();
  });
  it('waits on its fallback timer for the timeout rounded up to whole milliseconds, and a second for an infinite wait', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const loop = new FakeLoop();
      const poller = new EpollPoller(failing('epoll_create1', 24), loop, encode);
      const ticks = (): number => loop.calls.filter((call) => call === 'tick').length;
      poller.poll(4.2);
      vi.advanceTimersByTime(4);
      expect(ticks()).toBe(0);
      vi.advanceTimersByTime(1);
      expect(ticks()).toBe(1);
      poller.poll(Infinity);
      vi.advanceTimersByTime(999);
      expect(ticks()).toBe(1);
      vi.advanceTimersByTime(1);
      expect(ticks()).toBe(2);
      poller.poll(30);
      expect(vi.getTimerCount()).toBe(1);
      poller.release();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1000);
      expect(ticks()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
