import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import {
  EventLoopError,
  InvalidArgumentError,
  SocketError,
  type Completion,
  type ConnectOptions,
  type EventLoop,
  type HttpHandler,
  type HttpServer,
  type HttpServerOptions,
  type IoWatcher,
  type ListenOptions,
  type LoopOptions,
  type TcpServer,
  type TcpStream,
} from '@loop/core';
import { LoopBase, resolveConnectOptions, resolveHttpLimits, resolveListenOptions } from '@loop/core/kit';
import { capabilities, name } from './capabilities.js';
import { connectStream } from './connect.js';
import { EINTR, EMFILE, ENFILE, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLET, O_CLOEXEC, O_RDONLY } from './constants.js';
import { EpollPoller } from './epoll-poller.js';
import type { ExclusiveWaiter } from './exclusive-waiter.js';
import type { FdHandler } from './fd-handler.js';
import { EpollHttpServer } from './http/http-server.js';
import { EpollIoWatcher } from './io-watcher.js';
import type { Libc } from './libc.js';
import { systemError } from './libc.js';
import { openListenSocket, type EpollHttpOptions, type EpollListenOptions } from './listen-socket.js';
import { EpollTcpServer } from './tcp-server.js';
import { iovBuffer } from './write-queue.js';

/** How the loop registers the sockets it owns: level-triggered or edge-triggered (`EPOLLET`). */
export type TriggerMode = 'level' | 'edge';

/** Options of this backend's `createLoop`. */
export interface EpollLoopOptions extends LoopOptions {
  /**
   * `'level'` (the default; `LOOP_EPOLL_TRIGGER` in the environment sets another default) or
   * `'edge'`. It applies to the sockets the loop owns; fd watchers (`loop.io`) are level-triggered
   * either way, as the contract says.
   */
  readonly trigger?: TriggerMode;
}

/** Counters of what the loop did, for benchmarks (the thundering herd) and tests. */
export interface EpollStats {
  /** Times Node woke the process for the loop's epoll fd (uv_poll callbacks). */
  wakeups: number;
  /**
   * Wake-ups after which `epoll_wait` found nothing: another process took what woke this one (the
   * thundering herd's signature), or a level-triggered fd stopped being ready in between.
   */
  emptyWakeups: number;
  /** `epoll_wait` calls (one per poll tick). */
  polls: number;
  /** Events `epoll_wait` returned. */
  events: number;
  /** Readiness events of listening sockets. */
  listenEvents: number;
  /** Connections accepted. */
  accepted: number;
  /** `accept4` calls that found nothing (`EAGAIN`): another process or thread took the connection. */
  acceptMissed: number;
  /** Connections accepted and closed at once because the process was out of fds (EMFILE/ENFILE). */
  acceptShed: number;
}

/**
 * The EventLoop of this backend, with what only it offers: its trigger mode, its counters, and the
 * listen options of {@link EpollListenOptions} (`fd`, `exclusive`) and {@link EpollHttpOptions}
 * (`parser`).
 */
export interface EpollEventLoop extends EventLoop {
  /** The trigger mode of the loop's own sockets. */
  readonly trigger: TriggerMode;
  /** A live view of the loop's counters (reset them by assigning 0). */
  readonly stats: EpollStats;
  /** {@link EventLoop.listen}, with this backend's listen options. */
  listen(options: EpollListenOptions, onConnection: (stream: TcpStream) => void, callback: Completion<TcpServer>): void;
  /** {@link EventLoop.listen}, with this backend's listen options. */
  listen(options: EpollListenOptions, onConnection: (stream: TcpStream) => void): Promise<TcpServer>;
  /** {@link EventLoop.serveHttp}, with this backend's options. */
  serveHttp(options: HttpServerOptions & EpollHttpOptions, handler: HttpHandler, callback: Completion<HttpServer>): void;
  /** {@link EventLoop.serveHttp}, with this backend's options. */
  serveHttp(options: HttpServerOptions & EpollHttpOptions, handler: HttpHandler): Promise<HttpServer>;
}

// Events fetched per epoll_wait. A full batch means more may be ready: Node reports the epoll fd
// again at once, so nothing waits, and one batch cannot hold Node's own I/O back for long.
const MAX_EVENTS = 1024;
// Bytes read per read(2). Borrowed chunks are views of this buffer.
const READ_SIZE = 64 * 1024;
// Chunk views are cached by length below this size: a request of a size seen before costs no
// allocation at all (most requests of one client have the same few sizes).
const VIEW_CACHE = 4096;
// The output buffer responses are written into before one send(2); a response that does not fit
// goes out in several calls.
const OUT_SIZE = 64 * 1024;

function checkTrigger(trigger: unknown): TriggerMode {
  if (trigger === undefined) {
    const fromEnv = process.env['LOOP_EPOLL_TRIGGER'];
    return fromEnv === 'edge' ? 'edge' : 'level';
  }
  if (typeof trigger !== 'string') throw new InvalidArgumentError(`trigger must be 'level' or 'edge', got ${trigger === null ? 'null' : typeof trigger}`);
  if (trigger !== 'level' && trigger !== 'edge') {
    throw new EventLoopError('ERR_INVALID_ARG', `trigger must be 'level' or 'edge', got '${trigger}'`);
  }
  return trigger;
}

/**
 * Check this backend's listen options (`fd`, `exclusive`); returns them.
 * @throws InvalidArgumentError for a wrong type; EventLoopError `ERR_INVALID_ARG` for a bad fd
 */
function checkEpollListen<T extends EpollListenOptions>(options: T): T {
  const { fd, exclusive } = options;
  if (fd !== undefined) {
    if (typeof fd !== 'number') throw new InvalidArgumentError(`fd must be a number, got ${fd === null ? 'null' : typeof fd}`);
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new EventLoopError('ERR_INVALID_ARG', `fd must be a non-negative integer, got ${fd}`);
  }
  if (exclusive !== undefined && typeof exclusive !== 'boolean') throw new InvalidArgumentError(`exclusive must be a boolean, got ${typeof exclusive}`);
  return options;
}

/**
 * The loop: the kit's phase machine, with its poll phase fed by one epoll set. See the package
 * README for the design; {@link EpollPoller} for how it waits.
 */
export class EpollLoop extends LoopBase implements EpollEventLoop {
  readonly backend = name;
  readonly capabilities = capabilities;
  protected readonly poller: EpollPoller;
  readonly trigger: TriggerMode;
  /** `EPOLLET` in edge-triggered mode, else 0: or-ed into the events of every socket the loop owns. */
  readonly edgeFlag: number;
  readonly stats: EpollStats = { wakeups: 0, emptyWakeups: 0, polls: 0, events: 0, listenEvents: 0, accepted: 0, acceptMissed: 0, acceptShed: 0 };
  /**
   * Reused buffers. Every one is used synchronously between two syscalls and never kept across a
   * callback boundary by the loop (borrowed chunks are views of `readBuffer`: the contract lets
   * them die when their callback returns, and the next read reuses the memory).
   */
  readonly readBuffer = Buffer.allocUnsafe(READ_SIZE);
  /**
   * HTTP output is assembled here and sent from here. A connection owns the part from where it
   * started to `outLength`; another connection answering meanwhile (from inside a handler) stacks
   * its part above and sends it first, so neither overwrites the other.
   */
  readonly out = Buffer.allocUnsafe(OUT_SIZE);
  outLength = 0;
  /** Strings a TcpStream writes are encoded here (up to 16 Ki UTF-16 units, 3 bytes each at most). */
  readonly scratch = Buffer.allocUnsafe(48 * 1024);
  /** iovecs for writev. */
  readonly iov = iovBuffer();
  /** Four bytes for int socket options and socklen_t values. */
  readonly intBuffer = Buffer.alloc(4);
  readonly addressBuffer = Buffer.alloc(28);
  readonly addressLength = Buffer.alloc(4);
  /** An fd held open to be given up when accept() hits EMFILE (see AcceptServer); -1 until a server needs it. */
  reserveFd = -1;
  private servers = 0;

  private readonly views: (Buffer | undefined)[] = new Array<Buffer | undefined>(VIEW_CACHE);
  /** The fd table: who owns each fd in this loop (token 0: owned but not registered). */
  private readonly handlers: (FdHandler | undefined)[] = [];
  private nextToken = 1;
  private registered = 0;
  private readonly events: Buffer;
  private readonly eventWords: Uint32Array;
  private readonly stride: number;
  private readonly fdWord: number;
  private readonly ctl: Buffer;
  private readonly ctlWords: Uint32Array;
  private released = false;
  private readonly waiters = new Set<ExclusiveWaiter>();
  private waiting = false;
  /** The current tick was started by a uv_poll callback (for stats.emptyWakeups). */
  private hostWoken = false;

  constructor(
    readonly libc: Libc,
    options: EpollLoopOptions,
  ) {
    super(options.onError);
    this.trigger = checkTrigger(options.trigger);
    this.edgeFlag = this.trigger === 'edge' ? EPOLLET : 0;
    const size = libc.epollEventSize;
    this.stride = size / 4;
    this.fdWord = libc.epollDataOffset / 4;
    this.events = Buffer.alloc(size * MAX_EVENTS);
    this.eventWords = new Uint32Array(this.events.buffer, this.events.byteOffset, (size * MAX_EVENTS) / 4);
    this.ctl = Buffer.alloc(size);
    this.ctlWords = new Uint32Array(this.ctl.buffer, this.ctl.byteOffset, size / 4);
    this.poller = new EpollPoller(libc, this, (events, fd, token) => this.encodeEvent(events, fd, token));
  }

  // ---- the poll phase ----

  /**
   * Drain the epoll set once, with a zero timeout, and dispatch the batch in place: no event is
   * queued, no object or closure is made per event, and the clock was read once for the batch by
   * the kit's tick. An event for a slot whose token changed is stale and dropped (see FdHandler).
   */
  protected override pollIo(): void {
    const stats = this.stats;
    stats.polls++;
    if (this.waiters.size > 0) for (const waiter of this.waiters) waiter.pollNow();
    const epollFd = this.poller.epollFd;
    if (epollFd < 0) return;
    const count = this.libc.epoll_wait(epollFd, this.events, MAX_EVENTS, 0);
    const woken = this.hostWoken;
    this.hostWoken = false;
    if (count <= 0) {
      if (woken) stats.emptyWakeups++;
      if (count < 0 && this.libc.errno() !== EINTR) this.report(new SocketError('epoll_wait failed', systemError('epoll_wait', this.libc.errno())), 'poll');
      return;
    }
    stats.events += count;
    const words = this.eventWords;
    const handlers = this.handlers;
    const stride = this.stride;
    const fdWord = this.fdWord;
    for (let i = 0, at = 0; i < count; i++, at += stride) {
      const handler = handlers[words[at + fdWord] as number];
      if (handler === undefined || handler.token !== words[at + fdWord + 1]) continue;
      try {
        handler.ioEvent(words[at] as number);
      } catch (error) {
        this.report(error, 'poll');
      }
    }
  }

  /** Called by the poller for every uv_poll callback, right before its tick. */
  countWakeup(): void {
    this.stats.wakeups++;
    this.hostWoken = true;
  }

  // ---- the fd table ----

  /** Take `fd` for `handler` in this loop; `false` when something in this loop already has it. */
  claim(fd: number, handler: FdHandler): boolean {
    if (this.handlers[fd] !== undefined) return false;
    this.handlers[fd] = handler;
    handler.token = 0;
    return true;
  }

  /** Register a claimed `fd` with `events` (`EPOLL_CTL_ADD`); returns 0 or the errno. */
  watch(fd: number, handler: FdHandler, events: number): number {
    let epollFd: number;
    try {
      epollFd = this.poller.open();
    } catch (error) {
      return (error as SocketError).errno === 'EMFILE' ? EMFILE : ENFILE;
    }
    const token = this.nextToken;
    this.nextToken = token === 0xffffffff ? 1 : token + 1;
    if (this.libc.epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, this.encodeEvent(events, fd, token)) !== 0) return this.libc.errno();
    this.handlers[fd] = handler;
    handler.token = token;
    this.registered++;
    return 0;
  }

  /** Change the events of a registered `fd` (`EPOLL_CTL_MOD`, same token); returns 0 or the errno. */
  rewatch(fd: number, handler: FdHandler, events: number): number {
    return this.libc.epoll_ctl(this.poller.epollFd, EPOLL_CTL_MOD, fd, this.encodeEvent(events, fd, handler.token)) === 0 ? 0 : this.libc.errno();
  }

  /** Deregister `fd` but keep it claimed; events already fetched for it are dropped. */
  unwatch(fd: number, handler: FdHandler): void {
    if (handler.token === 0) return;
    handler.token = 0;
    this.registered--;
    this.libc.epoll_ctl(this.poller.epollFd, EPOLL_CTL_DEL, fd, null);
    // The last registration went while the loop is not running: give the epoll fd back now.
    if (this.registered === 0 && !this.isRunning()) this.poller.close();
  }

  /** Deregister and unclaim `fd` (before the owner closes it). */
  release(fd: number, handler: FdHandler): void {
    this.unwatch(fd, handler);
    if (this.handlers[fd] === handler) this.handlers[fd] = undefined;
  }

  /** Fds registered in the epoll set, the timerfd not counted. */
  registeredCount(): number {
    return this.registered;
  }

  timerFdChanged(fd: number, open: boolean): void {
    this.handlers[fd] = open ? this.poller : undefined;
  }

  /** The epoll_ctl argument for (events, fd, token): the fd and the token make up `data`. */
  private encodeEvent(events: number, fd: number, token: number): Uint8Array {
    const words = this.ctlWords;
    words[0] = events >>> 0;
    words[this.fdWord] = fd;
    words[this.fdWord + 1] = token;
    return this.ctl;
  }

  // ---- shared buffers ----

  /** A view of the first `length` bytes of {@link readBuffer}: the borrowed chunk of a read. */
  chunk(length: number): Buffer {
    if (length >= VIEW_CACHE) return this.readBuffer.subarray(0, length);
    let view = this.views[length];
    if (view === undefined) {
      view = this.readBuffer.subarray(0, length);
      this.views[length] = view;
    }
    return view;
  }

  /** Open the fd given up on EMFILE (see AcceptServer); returns it, or -1. */
  openReserve(): number {
    if (this.reserveFd < 0) this.reserveFd = this.libc.open('/dev/null', O_RDONLY | O_CLOEXEC);
    return this.reserveFd;
  }

  /** An exclusive listener's pool-thread wait: armed while the loop waits. */
  addWaiter(waiter: ExclusiveWaiter): void {
    this.waiters.add(waiter);
    if (this.waiting) waiter.arm();
  }

  removeWaiter(waiter: ExclusiveWaiter): void {
    this.waiters.delete(waiter);
  }

  /** The poller started (`true`) or stopped waiting for a run: arm or cancel the exclusive waits. */
  waitingChanged(waiting: boolean): void {
    if (waiting === this.waiting) return;
    this.waiting = waiting;
    for (const waiter of this.waiters) {
      if (waiting) waiter.arm();
      else waiter.disarm();
    }
  }

  /** A server started listening: it may need the reserve fd. */
  serverStarted(): void {
    this.servers++;
    this.openReserve();
  }

  /** A server stopped listening: the last one gives the reserve fd back. */
  serverStopped(): void {
    if (--this.servers > 0 || this.reserveFd < 0) return;
    this.libc.close(this.reserveFd);
    this.reserveFd = -1;
  }

  // ---- operations ----

  protected startListen(options: ListenOptions, onConnection: (stream: TcpStream) => void, done: Completion<TcpServer>): void {
    const resolved = resolveListenOptions(options);
    const extra = checkEpollListen(options as EpollListenOptions);
    this.resolveHost(resolved.host, extra.fd, done, (host) => {
      const socket = openListenSocket(this, { ...resolved, host }, extra);
      return EpollTcpServer.start(this, socket, onConnection);
    });
  }

  protected startConnect(options: ConnectOptions, done: Completion<TcpStream>): void {
    const resolved = resolveConnectOptions(options);
    this.resolveHost(resolved.host, undefined, done, (host) => {
      connectStream(this, host, resolved.port, resolved.noDelay, done);
      return undefined;
    });
  }

  protected startServeHttp(options: HttpServerOptions, handler: HttpHandler, done: Completion<HttpServer>): void {
    const resolved = resolveListenOptions(options);
    const limits = resolveHttpLimits(options);
    const extra = checkEpollListen(options as EpollHttpOptions);
    if (extra.parser !== undefined && typeof extra.parser !== 'string') throw new InvalidArgumentError(`parser must be 'fast' or 'llhttp', got ${typeof extra.parser}`);
    if (extra.parser !== undefined && extra.parser !== 'fast' && extra.parser !== 'llhttp') {
      throw new EventLoopError('ERR_INVALID_ARG', `parser must be 'fast' or 'llhttp', got '${String(extra.parser)}'`);
    }
    this.resolveHost(resolved.host, extra.fd, done, (host) => {
      const socket = openListenSocket(this, { ...resolved, host }, extra);
      return EpollHttpServer.start(this, socket, limits, handler, extra.parser !== 'llhttp');
    });
  }

  /**
   * Run `open` with `host` as an IP literal: at once for a literal (or an inherited fd, where the
   * host is not used), after a `dns.lookup` for a name. `open` returns the result for `done`, or
   * `undefined` when it calls `done` itself; it throws a SocketError for a failed syscall.
   */
  private resolveHost<T>(host: string, fd: number | undefined, done: Completion<T>, open: (host: string) => T | undefined): void {
    const attempt = (literal: string): void => {
      let result: T | undefined;
      try {
        result = open(literal);
      } catch (error) {
        done(error instanceof EventLoopError ? error : new SocketError('socket setup failed', error), undefined);
        return;
      }
      if (result !== undefined) done(undefined, result);
    };
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const zone = bare.indexOf('%');
    if (fd !== undefined || isIP(zone >= 0 ? bare.slice(0, zone) : bare) !== 0) {
      attempt(host);
      return;
    }
    lookup(host, (error, address) => {
      if (error) done(new SocketError(`lookup of ${host} failed`, error), undefined);
      else attempt(address);
    });
  }

  // ---- fd watchers ----

  protected override createIoWatcher(fd: number, callback: (watcher: IoWatcher, events: number) => void): IoWatcher {
    const watcher = new EpollIoWatcher(this, fd, callback);
    if (!this.claim(fd, watcher)) {
      throw new EventLoopError('ERR_INVALID_ARG', `fd ${fd} is already watched by this loop (by a watcher or one of its own sockets)`);
    }
    return watcher;
  }

  // ---- teardown ----

  /** Release the loop, then its epoll fd, timerfd, uv_poll handle and reserve fd. */
  override close(): void {
    super.close(); // throws ERR_LOOP_BUSY / ERR_LOOP_RUNNING with everything still in place
    if (this.released) return;
    this.released = true;
    this.poller.close();
  }
}
