import { IoEvents, SocketError, type IoWatcher } from '@loop/core';
import { checkIoEvents, HandleBase } from '@loop/core/kit';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from './constants.js';
import type { EpollLoop } from './epoll-loop.js';
import type { FdHandler } from './fd-handler.js';
import { systemError } from './libc.js';

/**
 * {@link IoWatcher}: the fd is one more member of the loop's epoll set, level-triggered whatever
 * the loop's trigger mode (the contract's watchers are level-triggered), and its callback runs from
 * the same dispatch as the loop's own sockets. An error or hang-up is reported as every watched
 * event, so that the user's read or write meets the errno.
 */
export class EpollIoWatcher extends HandleBase implements IoWatcher, FdHandler {
  readonly kind = 'io watcher';
  token = 0;
  private watched = 0;

  constructor(
    override readonly loop: EpollLoop,
    readonly fd: number,
    private readonly callback: (watcher: IoWatcher, events: number) => void,
  ) {
    super(loop);
  }

  get events(): number {
    return this.watched;
  }

  start(events: number): this {
    this.assertOpen();
    checkIoEvents(events);
    if (events === this.watched) return this;
    const mask = ((events & IoEvents.READABLE) !== 0 ? EPOLLIN | EPOLLRDHUP : 0) | ((events & IoEvents.WRITABLE) !== 0 ? EPOLLOUT : 0);
    const status = this.watched === 0 ? this.loop.watch(this.fd, this, mask) : this.loop.rewatch(this.fd, this, mask);
    if (status !== 0) {
      // EPERM: a regular file (always ready, epoll refuses it); EBADF: not open.
      throw new SocketError(`cannot watch fd ${this.fd}`, systemError('epoll_ctl', status));
    }
    this.watched = events;
    this.activate();
    return this;
  }

  stop(): this {
    if (this.watched === 0) return this;
    this.watched = 0;
    // Events of this batch that were already fetched carry the old token: they are dropped.
    this.loop.unwatch(this.fd, this);
    this.deactivate();
    return this;
  }

  ioEvent(events: number): void {
    const watched = this.watched;
    let ready = 0;
    if ((events & (EPOLLERR | EPOLLHUP)) !== 0) ready = watched;
    else ready = ((events & (EPOLLIN | EPOLLRDHUP)) !== 0 ? IoEvents.READABLE : 0) | ((events & EPOLLOUT) !== 0 ? IoEvents.WRITABLE : 0);
    ready &= watched;
    if (ready === 0) return;
    this.callback(this, ready);
  }

  protected override beginClose(): void {
    this.stop();
    this.loop.release(this.fd, this);
    super.beginClose();
  }
}
