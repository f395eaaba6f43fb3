import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { EventLoopError, InvalidArgumentError, SocketError, UnsupportedError } from '../errors.js';
import { IoEvents, type EventLoop, type IoWatcher } from '../loop.js';
import { forCapability, openFdCount, ranInPollPhase, recordingLoop, tracePhases, within, type LoopFactory } from './helpers.js';

const { READABLE, WRITABLE } = IoEvents;

/** What an io test gets: a fresh loop, a FIFO opened read-write and non-blocking, and errors reported. */
interface IoFixture {
  loop: EventLoop;
  fd: number;
  dir: string;
  errors: { error: unknown; phase: string }[];
}

/**
 * Run `fn` with a loop and a FIFO (`mkfifo`: pollable everywhere, no extra dependency; opened
 * O_RDWR so it is its own writer and never hangs up). Afterwards the loop must close (nothing
 * left live), no callback error must have been reported unless `fn` cleared them, and the
 * process must have as many open fds as before. The FIFO files are removed.
 */
async function withFifo(createLoop: LoopFactory, fn: (fixture: IoFixture) => Promise<void> | void): Promise<void> {
  const fdsBefore = openFdCount();
  const dir = mkdtempSync(join(tmpdir(), 'loop-io-'));
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const { loop, errors } = recordingLoop(createLoop);
  try {
    await within(Promise.resolve(fn({ loop, fd, dir, errors })), 15_000, 'io test');
    loop.close();
    expect(errors).toEqual([]);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  expect(openFdCount()).toBe(fdsBefore);
}

/** Read everything the fd holds now (until EAGAIN). */
function drain(fd: number): string {
  const buffer = Buffer.alloc(4096);
  let text = '';
  for (;;) {
    try {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) return text;
      text += buffer.toString('latin1', 0, n);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return text;
      throw error;
    }
  }
}


/** The error `loop.io(fd)` or its `start(READABLE)` throws (whichever refuses the fd); any watcher made is closed. */
function refusal(loop: EventLoop, fd: number): unknown {
  let watcher: IoWatcher | undefined;
  try {
    watcher = loop.io(fd, () => undefined);
    watcher.start(READABLE);
  } catch (error) {
    return error;
  } finally {
    watcher?.close();
  }
  return undefined;
}

/** An fd number no file can have now: far above every open fd (the kernel hands out the lowest free one). */
function unopenedFd(): number {
  const highest = openFdCount();
  return (highest > 0 ? highest : 64) + 10_000;
}

/**
 * `loop.io()`: level-triggered readiness of any pollable fd, in the poll phase, with libev's
 * watcher states (start twice, stop inside the callback, close), one watcher per fd, clear errors
 * for fds that cannot be watched, and no spin while the loop is stopped.
 */
export function defineIoSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  forCapability(
    capabilities.io,
    'fd watchers',
    () => {
      it('runs the callback in the poll phase with READABLE once a write made the fd readable', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const order: string[] = [];
          const untrace = tracePhases(loop, order);
          let seen: IoWatcher | undefined;
          const watcher = loop.io(fd, (w, events) => {
            seen = w;
            order.push(`io ${events} ${drain(fd)}`);
            w.close(untrace); // the hooks go in the close phase, after this iteration's check
          });
          expect(watcher.fd).toBe(fd);
          expect(watcher.start(READABLE)).toBe(watcher);
          expect(watcher.events).toBe(READABLE);
          writeSync(fd, 'ping');
          expect(await loop.run()).toBe(false);
          expect(seen).toBe(watcher);
          expect(order.filter((entry) => entry.startsWith('io'))).toEqual([`io ${READABLE} ping`]);
          if (capabilities.prepare && capabilities.check) expect(ranInPollPhase(order, `io ${READABLE} ping`)).toBe(true);
        }));

      it('reports WRITABLE for an fd that can take a write', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const seen: number[] = [];
          loop
            .io(fd, (w, events) => {
              seen.push(events);
              w.close();
            })
            .start(WRITABLE);
          await loop.run();
          expect(seen).toEqual([WRITABLE]);
        }));

      it('reports only the events it watches, and start() on an active watcher changes them', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const order: string[] = [];
          const watcher = loop.io(fd, (w, events) => {
            order.push(`io ${events}`);
            if (events === WRITABLE) {
              writeSync(fd, 'x'); // now readable and writable, but only READABLE is watched next
              w.start(READABLE);
            } else {
              drain(fd);
              w.close();
            }
          });
          watcher.start(READABLE); // the FIFO is empty: nothing to report until the mask changes
          loop
            .timer((timer) => {
              order.push('timer');
              watcher.start(WRITABLE);
              expect(watcher.events).toBe(WRITABLE);
              timer.close();
            })
            .start(20);
          await loop.run();
          expect(order).toEqual(['timer', `io ${WRITABLE}`, `io ${READABLE}`]);
        }));

      it('runs no further callback after stop() from inside the callback, though the fd stays readable', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const order: string[] = [];
          let ticks = 0;
          // Five more iterations (at least one poll phase each) once the watcher has stopped.
          const timer = loop.timer(() => {
            order.push('tick');
            if (++ticks === 5) {
              timer.close();
              watcher.close();
            }
          });
          const watcher = loop.io(fd, (w, events) => {
            order.push(`io ${events}`);
            w.stop();
            expect(w.isActive()).toBe(false);
            expect(w.events).toBe(0);
            timer.start(1, 1);
          });
          watcher.start(READABLE);
          writeSync(fd, 'unread');
          await loop.run();
          expect(order).toEqual([`io ${READABLE}`, 'tick', 'tick', 'tick', 'tick', 'tick']);
          expect(drain(fd)).toBe('unread');
        }));

      it('does not run a watcher stopped by another callback of the same poll phase', () =>
        withFifo(createLoop, async ({ loop, fd, dir }) => {
          const path = join(dir, 'second');
          execFileSync('mkfifo', [path]);
          const other = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
          try {
            const ran: string[] = [];
            const watchers: IoWatcher[] = [];
            for (const [name, target] of [
              ['first', fd],
              ['second', other],
            ] as const) {
              watchers.push(
                loop
                  .io(target, () => {
                    ran.push(name);
                    for (const w of watchers) w.close(); // stops the other one, whose event may be queued
                  })
                  .start(READABLE),
              );
            }
            writeSync(fd, 'a');
            writeSync(other, 'b');
            await loop.run();
            expect(ran).toHaveLength(1);
          } finally {
            closeSync(other);
          }
        }));

      it('is idempotent when started twice with the same events: one stop() makes it inactive', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const seen: number[] = [];
          const watcher = loop.io(fd, (w, events) => {
            seen.push(events);
            drain(fd);
            w.close();
          });
          watcher.start(READABLE).start(READABLE);
          expect(watcher.isActive()).toBe(true);
          watcher.stop();
          expect(watcher.isActive()).toBe(false);
          expect(loop.alive()).toBe(false);
          watcher.stop(); // stopping an inactive watcher does nothing
          watcher.start(READABLE).start(READABLE);
          writeSync(fd, 'once');
          await loop.run();
          expect(seen).toEqual([READABLE]);
        }));

      it('rejects an empty or unknown event mask with ERR_INVALID_ARG, a mask of the wrong type with InvalidArgumentError, and stays as it was', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const watcher = loop.io(fd, () => undefined);
          for (const events of [0, 4, 1.5, -1, Number.NaN]) {
            expect(() => watcher.start(events)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
          }
          // A mask of the wrong type is a TypeError, as every wrong-type argument is.
          for (const events of ['1', null, undefined]) expect(() => watcher.start(events as never)).toThrow(InvalidArgumentError);
          expect(watcher.isActive()).toBe(false);
          watcher.start(WRITABLE);
          expect(() => watcher.start(8)).toThrow(EventLoopError);
          expect(watcher.events).toBe(WRITABLE);
          watcher.close();
          await loop.run();
        }));

      it('does not keep the loop alive once unreferenced, and does again once referenced', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const watcher = loop.io(fd, () => undefined).start(READABLE);
          expect(loop.alive()).toBe(true);
          watcher.unref();
          expect(watcher.hasRef()).toBe(false);
          expect(loop.alive()).toBe(false);
          expect(await within(loop.run(), 5_000, 'run() with only an unreferenced watcher')).toBe(false);
          expect(watcher.isActive()).toBe(true);
          watcher.ref();
          expect(loop.alive()).toBe(true);
          watcher.close();
          await loop.run();
        }));

      it('closes: stopped at once, its close callback in the close phase, and start() then throws ERR_HANDLE_CLOSED', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const order: string[] = [];
          const watcher = loop.io(fd, () => order.push('io')).start(READABLE | WRITABLE);
          const untrace = tracePhases(loop, order);
          watcher.close(() => {
            order.push('closed');
            untrace();
          });
          expect(watcher.isActive()).toBe(false);
          expect(watcher.isClosing()).toBe(true);
          expect(() => watcher.start(READABLE)).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CLOSED' }));
          expect(await loop.run()).toBe(false);
          expect(order).not.toContain('io');
          expect(order).toContain('closed');
          if (capabilities.check) expect(order[order.indexOf('closed') - 1]).toBe('check');
        }));

      it('delivers readiness that arrived while the loop was not running in the next run, never before', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const order: string[] = [];
          const untrace = tracePhases(loop, order);
          loop
            .io(fd, (w, events) => {
              order.push(`io ${events} ${drain(fd)}`);
              w.close(untrace);
            })
            .start(READABLE);
          writeSync(fd, 'early');
          await new Promise((resolve) => setTimeout(resolve, 30)); // Node's own loop turns meanwhile
          expect(order).toEqual([]);
          await loop.run();
          expect(order.filter((entry) => entry.startsWith('io'))).toEqual([`io ${READABLE} early`]);
          if (capabilities.prepare && capabilities.check) expect(ranInPollPhase(order, `io ${READABLE} early`)).toBe(true);
        }));

      it('does not spin while the loop is stopped and a watched fd stays readable', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          let calls = 0;
          const watcher = loop.io(fd, () => calls++).start(READABLE);
          writeSync(fd, 'ready');
          await new Promise((resolve) => setImmediate(resolve)); // the fd is reported once, then parked
          const cpuBefore = process.cpuUsage();
          const wallBefore = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 300));
          const cpu = process.cpuUsage(cpuBefore);
          const cpuMs = (cpu.user + cpu.system) / 1000;
          const wallMs = performance.now() - wallBefore;
          // A spin burns most of the wall time (measured: over half, on a busy 2-core machine); an
          // idle process a few ms. Generous bound: a quarter.
          expect(cpuMs).toBeLessThan(wallMs / 4);
          expect(calls).toBe(0);
          watcher.close();
          await loop.run();
          expect(drain(fd)).toBe('ready');
        }));

      it('reports an exception thrown by the callback to the error handler with phase poll, and goes on', () =>
        withFifo(createLoop, async ({ loop, fd, errors }) => {
          const boom = new Error('boom');
          let calls = 0;
          loop
            .io(fd, (w) => {
              if (++calls === 2) {
                w.close();
                return;
              }
              throw boom; // level-triggered: the fd is still writable, so the callback runs again
            })
            .start(WRITABLE);
          await loop.run();
          expect(calls).toBe(2);
          expect(errors).toEqual([{ error: boom, phase: 'poll' }]);
          errors.length = 0;
        }));

      it('refuses a second watcher on an fd the loop already watches, until the first is closed', () =>
        withFifo(createLoop, async ({ loop, fd }) => {
          const first = loop.io(fd, () => undefined);
          expect(() => loop.io(fd, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
          first.start(READABLE);
          expect(() => loop.io(fd, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
          first.close();
          const second = loop.io(fd, (w) => w.close()).start(WRITABLE);
          expect(second.isActive()).toBe(true);
          await loop.run();
          expect(second.isClosing()).toBe(true);
        }));

      it('refuses bad fds: -1 and 1.5 with ERR_INVALID_ARG, an fd that is not open with ERR_SOCKET (EBADF)', () =>
        withFifo(createLoop, async ({ loop }) => {
          for (const fd of [-1, 1.5, Number.NaN, 2 ** 31]) {
            expect(() => loop.io(fd, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
          }
          expect(() => loop.io(3, 'nope' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
          const closed = refusal(loop, unopenedFd());
          expect(closed).toBeInstanceOf(SocketError);
          expect(closed).toMatchObject({ code: 'ERR_SOCKET', errno: 'EBADF' });
          await loop.run(); // the refused watcher's close
          expect(loop.alive()).toBe(false);
        }));

      it('refuses a regular file with ERR_SOCKET (EPERM): it is always ready, so it cannot be polled', () =>
        withFifo(createLoop, async ({ loop, dir }) => {
          const file = openSync(join(dir, 'regular'), 'w+');
          try {
            const error = refusal(loop, file);
            expect(error).toBeInstanceOf(SocketError);
            expect(error).toMatchObject({ code: 'ERR_SOCKET', errno: 'EPERM' });
            await loop.run();
          } finally {
            closeSync(file);
          }
        }));
    },
    () => {
      it('throws UnsupportedError from io()', () => {
        const { loop } = recordingLoop(createLoop);
        expect(() => loop.io(0, () => undefined)).toThrow(UnsupportedError);
        loop.close();
      });
    },
  );
}
