import { EPOLL_CTL_ADD, EPOLLEXCLUSIVE, EPOLLIN, O_CLOEXEC, O_NONBLOCK } from './constants.js';
import type { EpollLoop } from './epoll-loop.js';

/**
 * What makes `EPOLLEXCLUSIVE` real for a listening socket shared by several processes.
 *
 * The loop's own epoll set is never waited on directly: Node's epoll set watches it (uv_poll). The
 * kernel honours `EPOLLEXCLUSIVE` only towards an epoll set with a thread blocked in
 * `epoll_wait` on it (fs/eventpoll.c: `ep_poll_callback` counts an exclusive wake-up only
 * `if (waitqueue_active(&ep->wq))`); a nested set has no such thread, so every process would be
 * woken anyway (bench/epoll/herd.mjs measures it). So an exclusive listener gets an epoll set of
 * its own, holding only the listening socket (`EPOLLIN | EPOLLEXCLUSIVE`) and an eventfd to cancel
 * the wait, and one thread of Node's pool blocks in `epoll_wait` on it (koffi's async call) while
 * the loop waits. Its completion queues the accepts for the poll phase with `loop.deliver`.
 *
 * The price: one parked pool thread per exclusive listener while its loop waits (Node's pool has
 * 4 by default, shared with fs, dns and crypto), and a pool round trip (5-20 µs) per batch of
 * connections. The wait is armed only while the loop runs, and cancelled when a run ends, so a
 * loop that is not running parks nothing and keeps nothing alive.
 */
export class ExclusiveWaiter {
  private readonly epollFd: number;
  private readonly eventFd: number;
  private readonly events: Buffer;
  private readonly counter = Buffer.alloc(8);
  /** An epoll_wait is blocked on a pool thread. */
  private inFlight = false;
  /** The loop waits: keep an epoll_wait armed. */
  private wanted = false;
  private cancelling = false;
  private closed = false;
  private readonly completed = (error: unknown, count: number): void => this.complete(error, count);

  /**
   * @throws Error (an errno) when the epoll set or the eventfd cannot be made or the socket added.
   */
  constructor(
    private readonly loop: EpollLoop,
    listenFd: number,
    private readonly onReady: () => void,
  ) {
    const libc = loop.libc;
    this.events = Buffer.alloc(libc.epollEventSize * 2);
    this.epollFd = libc.epoll_create1(O_CLOEXEC);
    this.eventFd = this.epollFd < 0 ? -1 : libc.eventfd(0, O_NONBLOCK | O_CLOEXEC);
    const add = (fd: number, events: number): boolean => {
      const event = Buffer.alloc(libc.epollEventSize);
      event.writeUInt32LE(events >>> 0, 0);
      event.writeUInt32LE(fd, libc.epollDataOffset);
      return libc.epoll_ctl(this.epollFd, EPOLL_CTL_ADD, fd, event) === 0;
    };
    if (this.eventFd < 0 || !add(listenFd, EPOLLIN | EPOLLEXCLUSIVE) || !add(this.eventFd, EPOLLIN)) {
      const errno = libc.errno();
      if (this.eventFd >= 0) libc.close(this.eventFd);
      if (this.epollFd >= 0) libc.close(this.epollFd);
      throw Object.assign(new Error(`cannot set up the exclusive wait: errno ${errno}`), { errno });
    }
  }

  /** Backing off (AcceptServer): no wait is armed until `resume()`. */
  private suspended = false;

  /** The loop waits: block a pool thread on the socket until a connection arrives. */
  arm(): void {
    this.wanted = true;
    if (!this.inFlight && !this.closed && !this.suspended) this.issue();
  }

  /** Stop watching for a while (accept is backing off); the loop's arming is ignored meanwhile. */
  suspend(): void {
    this.suspended = true;
    this.cancel();
  }

  /** Watch again after `suspend()`. */
  resume(): void {
    this.suspended = false;
    if (this.wanted) this.arm();
  }

  /** The run ended: cancel the blocked wait (its thread goes back to the pool). */
  disarm(): void {
    this.wanted = false;
    this.cancel();
  }

  /** A poll tick while no wait is armed (a 'nowait' run, say): look once, without blocking. */
  pollNow(): void {
    if (this.inFlight || this.closed || this.suspended) return;
    if (this.loop.libc.epoll_wait(this.epollFd, this.events, 2, 0) > 0 && this.sawConnection(2)) this.onReady();
  }

  /** The accepts are done: wait again if the loop still waits. */
  acceptDone(): void {
    if (this.wanted && !this.inFlight && !this.closed && !this.suspended) this.issue();
  }

  /** Stop for good; the fds close once the pool thread let go of them. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wanted = false;
    if (this.inFlight) this.cancel();
    else this.closeFds();
  }

  private issue(): void {
    this.inFlight = true;
    this.loop.libc.epoll_wait_async(this.epollFd, this.events, 2, -1, this.completed);
  }

  private cancel(): void {
    if (!this.inFlight || this.cancelling) return;
    this.cancelling = true;
    this.counter.writeBigUInt64LE(1n, 0);
    this.loop.libc.write(this.eventFd, this.counter, 8);
  }

  /** On the main thread, outside the loop's phases: queue the accepts for the poll phase. */
  private complete(error: unknown, count: number): void {
    this.inFlight = false;
    if (this.closed) {
      this.closeFds();
      return;
    }
    const ready = error === null || error === undefined ? this.sawConnection(count) : false;
    if (!this.wanted) {
      // The run ended and its cancel raced a connection: a loop that is not running is not woken.
      // The connection stays in the backlog (level-triggered), where the next run's look or wait
      // finds it.
      return;
    }
    // A completion is a wake-up of the process as much as a uv_poll callback is (stats.wakeups).
    if (ready) this.loop.stats.wakeups++;
    if (ready) this.loop.deliver(this.onReady, undefined, undefined);
    else if (!this.suspended) this.issue();
  }

  /** Whether the first `count` events hold the listening socket's (the eventfd's are consumed). */
  private sawConnection(count: number): boolean {
    const libc = this.loop.libc;
    let connection = false;
    for (let i = 0; i < count; i++) {
      const fd = this.events.readUInt32LE(i * libc.epollEventSize + libc.epollDataOffset);
      if (fd === this.eventFd) {
        libc.read(this.eventFd, this.counter, 8); // resets the counter (not a semaphore eventfd)
        this.cancelling = false;
      } else {
        connection = true;
      }
    }
    return connection;
  }

  private closeFds(): void {
    const libc = this.loop.libc;
    libc.close(this.eventFd);
    libc.close(this.epollFd);
  }
}
