import { SocketError } from '@loop/core';
import type { Poller } from '@loop/core/kit';
import { CLOCK_MONOTONIC, EPOLL_CTL_ADD, EPOLLIN, O_CLOEXEC, O_NONBLOCK } from './constants.js';
import type { FdHandler } from './fd-handler.js';
import { HostWatch, UV_READABLE } from './host-watch.js';
import { systemError, type Libc } from './libc.js';

/** The loop as the poller sees it. */
export interface PolledLoop {
  pollTick(): void;
  isPolling(): boolean;
  report(error: unknown, phase: 'poll'): void;
  /** A host wake-up: the epoll fd turned readable and Node ran our uv_poll callback. */
  countWakeup(): void;
  /** How many fds the loop has registered in its epoll set (the timerfd not counted). */
  registeredCount(): number;
  /** The timerfd was opened (`fd >= 0`, put it in the fd table) or is about to be closed (take it out). */
  timerFdChanged(fd: number, open: boolean): void;
  /** The loop started (`true`) or stopped waiting in its poll phase for this run. */
  waitingChanged(waiting: boolean): void;
}

/** The timerfd's registration token: the loop hands out tokens from 1 up, and never this one. */
export const TIMER_TOKEN = 0;

/**
 * How an epoll loop waits without ever blocking the JavaScript thread: its epoll fd is watched by a
 * `uv_poll` handle on Node's own libuv loop ({@link HostWatch}), so the wait is Node's `epoll_wait`,
 * and the loop's timeout is a `timerfd` inside the loop's own epoll set. When either fires, Node
 * calls back on the main thread and the tick drains the epoll set with a zero timeout.
 *
 * - `poll(timeout)`: starts the uv_poll (once per run) and (re)arms the timerfd; `Infinity` disarms
 *   it. 0 is a wake-up.
 * - `wake()`: one `setImmediate` (Node's check phase), at most one outstanding. It is cheaper than
 *   writing an eventfd, and a tick it runs drains epoll too, so nothing waits behind it.
 * - `release()`: stops the uv_poll and disarms: a loop that is not running keeps neither Node alive
 *   nor its own events flowing (they wait in epoll for the next run).
 *
 * The epoll fd, the timerfd and the uv_poll handle exist only while the loop needs them: from the
 * first registration or wait, until a run ends with no fd registered. A loop holds no fd while it
 * has nothing to watch (the conformance suite counts fds with the loop still open).
 */
export class EpollPoller implements Poller, FdHandler {
  /** The timerfd's token: it is registered with data (fd, TIMER_TOKEN) and matched by fd. */
  token = TIMER_TOKEN;
  /** The epoll fd, -1 while closed. */
  epollFd = -1;
  /** The timerfd, -1 while closed. */
  timerFd = -1;
  private watch: HostWatch | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private fallback: NodeJS.Timeout | undefined;
  private armed = false;
  // struct itimerspec { it_interval, it_value }, each { int64 tv_sec, long tv_nsec }.
  private readonly spec = Buffer.alloc(32);
  private readonly specWords = new Int32Array(this.spec.buffer, this.spec.byteOffset, 8);
  private readonly drain = Buffer.alloc(8);
  private readonly tick = (): void => {
    this.immediate = undefined;
    this.loop.pollTick();
  };
  private readonly fallbackTick = (): void => {
    this.fallback = undefined;
    this.loop.pollTick();
  };
  private readonly hostReadable = (): void => {
    this.loop.countWakeup();
    try {
      if (this.loop.isPolling()) this.loop.pollTick();
    } catch (error) {
      // pollTick reports user errors itself; this would be a bug of the loop, and it must not
      // unwind into libuv through koffi.
      this.loop.report(error, 'poll');
    }
  };

  constructor(
    private readonly libc: Libc,
    private readonly loop: PolledLoop,
    /** Encodes an epoll_ctl event for (events, fd, token) and returns the buffer to pass. */
    private readonly encodeEvent: (events: number, fd: number, token: number) => Uint8Array,
  ) {}

  /**
   * The epoll fd, created with its timerfd and uv_poll handle if they are not open.
   * @throws SocketError when one of them cannot be made (nothing is left open)
   */
  open(): number {
    if (this.epollFd >= 0) return this.epollFd;
    const libc = this.libc;
    const epollFd = libc.epoll_create1(O_CLOEXEC);
    if (epollFd < 0) throw new SocketError('epoll_create1 failed', systemError('epoll_create1', libc.errno()));
    const timerFd = libc.timerfd_create(CLOCK_MONOTONIC, O_NONBLOCK | O_CLOEXEC);
    if (timerFd < 0) {
      const errno = libc.errno();
      libc.close(epollFd);
      throw new SocketError('timerfd_create failed', systemError('timerfd_create', errno));
    }
    // The timerfd is level-triggered whatever the loop's mode: it is read when it fires.
    if (libc.epoll_ctl(epollFd, EPOLL_CTL_ADD, timerFd, this.encodeEvent(EPOLLIN, timerFd, TIMER_TOKEN)) !== 0) {
      const errno = libc.errno();
      libc.close(timerFd);
      libc.close(epollFd);
      throw new SocketError('epoll_ctl on the timerfd failed', systemError('epoll_ctl', errno));
    }
    try {
      this.watch = new HostWatch(libc.koffi, epollFd, UV_READABLE, this.hostReadable);
    } catch (error) {
      libc.close(timerFd);
      libc.close(epollFd);
      throw new SocketError('cannot watch the epoll fd from Node’s loop', error);
    }
    this.epollFd = epollFd;
    this.timerFd = timerFd;
    this.armed = false;
    this.loop.timerFdChanged(timerFd, true);
    return epollFd;
  }

  poll(timeout: number): void {
    if (timeout === 0) {
      this.wake();
      return;
    }
    try {
      this.open();
    } catch (error) {
      // Out of fds at the first wait: say so, and wait on a Node timer instead (no I/O can be
      // registered without an epoll fd anyway).
      this.loop.report(error, 'poll');
      this.fallback ??= setTimeout(this.fallbackTick, timeout === Infinity ? 1000 : Math.min(Math.ceil(timeout), 2 ** 31 - 1));
      return;
    }
    this.watch?.start();
    this.loop.waitingChanged(true);
    if (timeout === Infinity) this.disarm();
    else this.arm(timeout);
  }

  wake(): void {
    if (this.immediate === undefined) this.immediate = setImmediate(this.tick);
  }

  release(): void {
    this.watch?.stop();
    this.loop.waitingChanged(false);
    this.disarm();
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.fallback !== undefined) {
      clearTimeout(this.fallback);
      this.fallback = undefined;
    }
    // Nothing left to watch: give the fds back until the next registration or wait.
    if (this.loop.registeredCount() === 0) this.close();
  }

  /** The timerfd expired: read it so that (level-triggered) it stops being ready; the tick goes on to end the poll phase. */
  ioEvent(): void {
    this.libc.read(this.timerFd, this.drain, 8);
  }

  /** Close the timerfd, the uv_poll handle and the epoll fd (they reopen on the next need). */
  close(): void {
    if (this.epollFd < 0) return;
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    this.watch?.close();
    this.watch = undefined;
    this.loop.timerFdChanged(this.timerFd, false);
    this.libc.close(this.timerFd);
    this.libc.close(this.epollFd);
    this.timerFd = -1;
    this.epollFd = -1;
    this.armed = false;
  }

  /** Arm the timerfd `timeout` ms from now (never early: it counts from this call, after the loop's cached now). */
  private arm(timeout: number): void {
    const ms = Math.ceil(timeout * 1000) / 1000; // whole µs, rounded up
    const seconds = Math.floor(ms / 1000);
    const nanoseconds = Math.round((ms - seconds * 1000) * 1e6);
    const words = this.specWords;
    words.fill(0);
    // it_value.tv_sec (int64, little-endian) and it_value.tv_nsec; a zero it_value would disarm.
    words[4] = seconds % 0x1_0000_0000 | 0;
    words[5] = Math.floor(seconds / 0x1_0000_0000);
    words[6] = seconds === 0 && nanoseconds === 0 ? 1 : nanoseconds;
    this.libc.timerfd_settime(this.timerFd, 0, this.spec, null);
    this.armed = true;
  }

  private disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.specWords.fill(0);
    this.libc.timerfd_settime(this.timerFd, 0, this.spec, null);
  }
}
