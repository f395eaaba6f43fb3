import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IoEvents, SocketError } from '@loop/core';
import { EpollLoop } from '../src/epoll-loop.js';
import { loadLibc, type Libc } from '../src/libc.js';
import { openFdCount, within } from './http-helpers.js';

const { READABLE } = IoEvents;
const libc = loadLibc();

/** The real libc, except that epoll_wait answers from `script` (one entry per call, then the real call). */
function scriptedWait(script: ('real' | 'empty' | number)[]): Libc {
  const wrapped: Libc = Object.create(libc) as Libc;
  let failure = 0;
  wrapped.epoll_wait = (epfd, events, max, timeout) => {
    const step = script.shift() ?? 'real';
    if (step === 'real') return libc.epoll_wait(epfd, events, max, timeout);
    if (step === 'empty') return 0;
    failure = step;
    return -1;
  };
  wrapped.errno = () => (failure !== 0 ? failure : libc.errno());
  return wrapped;
}

/** A loop on `lib` with a FIFO: `fn` gets the loop, the FIFO's ends and the reported errors. */
async function withLoop(lib: Libc, fn: (loop: EpollLoop, fifo: { reader: number; writer: number }, errors: [unknown, string][]) => Promise<void>): Promise<void> {
  const fdsBefore = openFdCount();
  const dir = mkdtempSync(join(tmpdir(), 'loop-stats-'));
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const errors: [unknown, string][] = [];
  const loop = new EpollLoop(lib, { onError: (error, phase) => errors.push([error, phase]) });
  try {
    await within(fn(loop, { reader, writer }, errors), 10_000, 'stats test');
    loop.close();
  } finally {
    closeSync(reader);
    closeSync(writer);
    rmSync(dir, { recursive: true, force: true });
  }
  expect(openFdCount()).toBe(fdsBefore);
}

/** Watch `reader` until a byte written from a Node timer arrives; the run ends with the watcher closed. */
async function readOneByte(loop: EpollLoop, fifo: { reader: number; writer: number }): Promise<string[]> {
  const seen: string[] = [];
  loop.io(fifo.reader, (watcher, events) => {
    const buffer = Buffer.alloc(8);
    seen.push(`${events} ${buffer.toString('latin1', 0, readSync(fifo.reader, buffer, 0, 8, null))}`);
    watcher.close();
  }).start(READABLE);
  const running = loop.run();
  setTimeout(() => writeSync(fifo.writer, 'x'), 5);
  await running;
  return seen;
}

describe('the loop’s counters', () => {
  it('counts the poll ticks, host wake-ups and events of a run woken once by a watched fd', () =>
    withLoop(libc, async (loop, fifo) => {
      expect(await readOneByte(loop, fifo)).toEqual([`${READABLE} x`]);
      expect(loop.stats.wakeups).toBe(1);
      expect(loop.stats.events).toBe(1);
      expect(loop.stats.emptyWakeups).toBe(0);
      expect(loop.stats.polls).toBeGreaterThanOrEqual(1);
    }));

  it('counts a host wake-up whose epoll_wait finds nothing as an empty wake-up, and only that one', () =>
    withLoop(scriptedWait(['empty']), async (loop, fifo) => {
      // The first tick is the host's wake-up for the byte; its epoll_wait is made to find nothing
      // (as when another process took the event). The fd stays ready, so the host wakes again.
      expect(await readOneByte(loop, fifo)).toEqual([`${READABLE} x`]);
      expect(loop.stats.wakeups).toBe(2);
      expect(loop.stats.emptyWakeups).toBe(1);
      expect(loop.stats.events).toBe(1);
    }));

  it('does not count a tick that no host wake-up started as an empty wake-up (a nowait run, even after a woken tick)', () =>
    withLoop(libc, async (loop, fifo) => {
      const watcher = loop.io(fifo.reader, () => undefined).start(READABLE);
      await loop.run('nowait'); // the very first tick: nothing ready, no host wake-up
      expect(loop.stats).toMatchObject({ polls: 1, wakeups: 0, emptyWakeups: 0, events: 0 });
      watcher.close();
      await loop.run();
      await readOneByte(loop, fifo); // a woken tick
      const polls = loop.stats.polls;
      const keep = loop.io(fifo.reader, () => undefined).start(READABLE);
      await loop.run('nowait'); // then a tick that nothing woke, finding nothing
      expect(loop.stats.polls).toBe(polls + 1);
      expect(loop.stats.emptyWakeups).toBe(0);
      keep.close();
      await loop.run();
    }));

  it('reports a failed epoll_wait to the error handler with phase poll, and goes on', () =>
    withLoop(scriptedWait([9]), async (loop, fifo, errors) => {
      expect(await readOneByte(loop, fifo)).toEqual([`${READABLE} x`]);
      expect(errors).toHaveLength(1);
      const [error, phase] = errors[0] as [SocketError, string];
      expect(phase).toBe('poll');
      expect(error).toBeInstanceOf(SocketError);
      expect(error.message).toBe('epoll_wait failed: EBADF');
      expect((error.cause as { syscall?: string }).syscall).toBe('epoll_wait');
      expect(loop.stats.emptyWakeups).toBe(1);
    }));

  it('ignores an epoll_wait interrupted by a signal (EINTR): nothing is reported', () =>
    withLoop(scriptedWait([4]), async (loop, fifo, errors) => {
      expect(await readOneByte(loop, fifo)).toEqual([`${READABLE} x`]);
      expect(errors).toEqual([]);
    }));
});
