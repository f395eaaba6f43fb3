import { SocketError, type SocketAddress } from '@loop/core';
import { HandleBase, type KitTimer } from '@loop/core/kit';
import { ACCEPT_RETRY, EAGAIN, EINTR, EMFILE, ENFILE, EPOLLIN, SOCK_CLOEXEC, SOCK_NONBLOCK } from './constants.js';
import type { EpollLoop } from './epoll-loop.js';
import { ExclusiveWaiter } from './exclusive-waiter.js';
import type { FdHandler } from './fd-handler.js';
import { systemError } from './libc.js';
import type { ListeningSocket } from './listen-socket.js';

// Level-triggered: connections accepted per readiness event, so one busy listener cannot hold the
// rest of a batch back (what is left is reported again by the next epoll_wait). Edge-triggered
// listeners drain until EAGAIN: a new edge comes only with a new connection.
const ACCEPTS_PER_EVENT = 64;
// How long a listener stops watching when accept fails for a reason the reserve fd cannot help
// with (ENOBUFS, ENOMEM, a reserve that could not be reopened...).
const BACKOFF_MS = 100;
// Accept failures are reported to the error handler at most this often per server.
const REPORT_INTERVAL_MS = 1000;

/**
 * A listening socket in the loop, accepting connections; {@link EpollTcpServer} and the HTTP server
 * build on it with what they do per accepted fd.
 *
 * `EMFILE`/`ENFILE` keep the server alive and serving (libev's and libuv's "reserve fd"
 * technique): the loop holds one spare fd (`/dev/null`); when accept fails for lack of fds, the
 * spare is closed, the pending connection accepted and closed at once (the client sees it closed
 * instead of waiting in the backlog forever, and a level-triggered listener does not spin on it),
 * and the spare reopened. The error goes to the error handler, at most once a second. If the spare
 * cannot be reopened, or accept fails with ENOBUFS/ENOMEM, the listener stops watching for
 * {@link BACKOFF_MS} ms instead.
 */
export abstract class AcceptServer extends HandleBase implements FdHandler {
  token = 0;
  readonly fd: number;
  readonly address: SocketAddress;
  private readonly exclusive: boolean;
  private backoff: KitTimer | undefined;
  private lastReport = -Infinity;
  private listening = false;
  /** The pool-thread wait that makes EPOLLEXCLUSIVE real (see ExclusiveWaiter); undefined otherwise. */
  private waiter: ExclusiveWaiter | undefined;

  protected constructor(
    override readonly loop: EpollLoop,
    socket: ListeningSocket,
  ) {
    super(loop);
    this.fd = socket.fd;
    this.address = socket.address;
    this.exclusive = socket.exclusive;
  }

  /**
   * Register the listening fd and make the handle active.
   * @throws SocketError when epoll refuses it (nothing is left open; an fd this loop already uses stays its owner's)
   */
  protected startListening(): void {
    const loop = this.loop;
    if (!loop.claim(this.fd, this)) {
      // Not closed: the fd is the other handle's (a takeover of an fd this loop already serves).
      throw new SocketError(`fd ${this.fd} is already in use by this loop`, systemError('epoll_ctl', 17));
    }
    if (this.exclusive) {
      try {
        this.waiter = new ExclusiveWaiter(loop, this.fd, () => this.acceptExclusive());
      } catch (error) {
        loop.release(this.fd, this);
        loop.libc.close(this.fd);
        throw new SocketError('cannot watch the listening socket', systemError('epoll_ctl', (error as { errno: number }).errno));
      }
      loop.addWaiter(this.waiter);
      loop.serverStarted();
      this.listening = true;
      this.activate();
      return;
    }
    const status = this.watchListener();
    if (status !== 0) {
      loop.release(this.fd, this);
      loop.libc.close(this.fd);
      throw new SocketError('cannot watch the listening socket', systemError('epoll_ctl', status));
    }
    loop.serverStarted();
    this.listening = true;
    this.activate();
  }

  /** An fd was accepted (non-blocking, close-on-exec, TCP_NODELAY inherited from the listener): take it over. */
  protected abstract accepted(fd: number): void;

  ioEvent(): void {
    const loop = this.loop;
    const libc = loop.libc;
    const stats = loop.stats;
    stats.listenEvents++;
    const limit = loop.edgeFlag !== 0 ? Infinity : ACCEPTS_PER_EVENT;
    for (let i = 0; i < limit && this.listening; i++) {
      const fd = libc.accept4(this.fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        stats.accepted++;
        this.accepted(fd);
        continue;
      }
      const errno = libc.errno();
      if (errno === EAGAIN) {
        if (i === 0) stats.acceptMissed++;
        return;
      }
      if (errno === EMFILE || errno === ENFILE) {
        if (!this.shed(errno)) return;
        continue;
      }
      if (errno === EINTR) continue;
      // ECONNABORTED, EPROTO, ENETDOWN...: that connection is gone, the next may be fine (accept(2)
      // says to treat them like EAGAIN and retry). Anything else: report and back off.
      if (ACCEPT_RETRY.has(errno)) continue;
      this.reportFailure(errno, 'the server stops accepting for a moment');
      this.pause();
      return;
    }
  }

  /** The exclusive wait saw a connection (delivered in the poll phase): accept, then wait again. */
  private acceptExclusive(): void {
    if (!this.listening) return;
    this.ioEvent();
    this.waiter?.acceptDone();
  }

  /** Out of fds: give up the reserve fd for one accept, close that connection, take the reserve back. */
  private shed(errno: number): boolean {
    const loop = this.loop;
    const libc = loop.libc;
    if (loop.reserveFd < 0) {
      this.reportFailure(errno, 'the server stops accepting for a moment');
      this.pause();
      return false;
    }
    libc.close(loop.reserveFd);
    loop.reserveFd = -1;
    const fd = libc.accept4(this.fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      libc.close(fd);
      loop.stats.acceptShed++;
    }
    const reopened = loop.openReserve() >= 0;
    this.reportFailure(errno, 'a connection was closed at once to keep serving');
    if (fd < 0 || !reopened) {
      if (!reopened) this.pause();
      return false;
    }
    return true;
  }

  private reportFailure(errno: number, what: string): void {
    const now = this.loop.now();
    if (now - this.lastReport < REPORT_INTERVAL_MS) return;
    this.lastReport = now;
    this.loop.report(new SocketError(`accept on ${this.address.address}:${this.address.port} failed; ${what}`, systemError('accept4', errno)), 'poll');
  }

  /** Stop watching the listener for BACKOFF_MS, then watch again (connections wait in the backlog). */
  private pause(): void {
    if (this.waiter !== undefined) this.waiter.suspend();
    else this.loop.unwatch(this.fd, this);
    if (this.backoff === undefined) {
      this.backoff = this.loop.timer(() => {
        if (!this.listening) return;
        if (this.waiter !== undefined) this.waiter.resume();
        else this.watchListener();
      }) as KitTimer;
      this.backoff.unref();
    }
    this.backoff.start(BACKOFF_MS);
  }

  private watchListener(): number {
    return this.loop.watch(this.fd, this, EPOLLIN | this.loop.edgeFlag);
  }

  /** Stop accepting and close the listening fd (synchronously, as libuv does). */
  protected stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.backoff?.close();
    this.backoff = undefined;
    if (this.waiter !== undefined) {
      this.loop.removeWaiter(this.waiter);
      this.waiter.close();
      this.waiter = undefined;
    }
    this.loop.release(this.fd, this);
    this.loop.libc.close(this.fd);
    this.loop.serverStopped();
  }
}
