import { performance } from 'node:perf_hooks';
import {
  EventLoopError,
  UnsupportedError,
  type Completion,
  type ConnectOptions,
  type EventLoop,
  type HttpHandler,
  type HttpServer,
  type HttpServerOptions,
  type ListenOptions,
  type LoopOptions,
  type TcpServer,
  type TcpStream,
} from '@loop/core';
import { LoopBase, resolveConnectOptions, resolveListenOptions, type KitTimer } from '@loop/core/kit';
import { capabilities, name } from './capabilities.js';
import { checkNumber } from './check-number.js';
import { Network, resolveLink, socketError, type LinkOptions, type LinkTarget, type NetworkHost } from './network.js';
import { SeededRandom } from './seeded-random.js';
import { VirtualTcpServer } from './tcp-server.js';
import { VirtualTcpStream } from './tcp-stream.js';
import { VirtualPoller, type PollerHost } from './virtual-poller.js';

/** Options of the virtual backend's `createLoop`. */
export interface VirtualLoopOptions extends LoopOptions {
  /**
   * Where the loop's free choices come from (which waiting connection is accepted first, the
   * order of packets arriving at the same virtual time, which `reusePort` listener gets a
   * connection): the same program with the same seed makes the same choices. A non-negative
   * safe integer; default 0.
   */
  readonly seed?: number;
  /** The value `now()` starts at, in ms. Default 0. */
  readonly epoch?: number;
  /**
   * 0 (the default): time is virtual and jumps, moving only when the loop would otherwise wait.
   * A positive number: time runs at that multiple of real time and is waited for (2: twice as
   * fast as real time). Scaled time depends on the host's timing, so it gives up determinism.
   */
  readonly timeScale?: number;
  /** The link of every connection, unless {@link VirtualLoop.setLink} gave one for its target. Default: no latency, no bandwidth limit. */
  readonly link?: LinkOptions;
}

/**
 * An {@link EventLoop} in virtual time, with an in-memory network (see the package's README).
 * Everything of `EventLoop` behaves as on any backend; this adds what a test needs to drive time
 * and the network by hand.
 */
export interface VirtualLoop extends EventLoop {
  /** The seed of this loop's free choices (see {@link VirtualLoopOptions.seed}). */
  readonly seed: number;
  /**
   * Move the clock forward by `ms`, as if that much time had passed at once (tokio's
   * `time::advance`, Trio's `MockClock.jump`). The cached `now()` follows at the loop's next
   * clock read, as after real time spent in a callback; timers due by then run in the next timer
   * phase, together, each once. Called while `run()` waits, it ends the wait; called outside
   * `run()`, nothing runs before the next `run()`.
   * @throws EventLoopError `ERR_INVALID_ARG` for a negative or non-finite `ms`; `ERR_LOOP_CLOSED`.
   * @example
   * ```ts
   * const loop = createLoop();
   * loop.timer(() => console.log('a minute later')).start(60_000);
   * loop.advance(60_000);
   * await loop.run('nowait'); // prints 'a minute later'; loop.now() is 60000
   * ```
   */
  advance(ms: number): void;
  /**
   * Set the latency and bandwidth of connections made from now on to `target` (its `host`, its
   * `port`, or both; the most specific match wins, and `{}` sets the default for all).
   * Connections already open keep their link.
   * @throws EventLoopError `ERR_INVALID_ARG` for a bad target or link; `ERR_LOOP_CLOSED`.
   * @example
   * ```ts
   * loop.setLink({ port: 5432 }, { latency: 25, bandwidth: 1_000_000 }); // 25 ms each way, 1 MB/s
   * ```
   */
  setLink(target: LinkTarget, link: LinkOptions): void;
}

/**
 * The kit's phase machine on a virtual clock. The kit reads time only through `clock()`, which
 * here returns the virtual time; the {@link VirtualPoller} moves it.
 */
export class VirtualLoopImpl extends LoopBase implements VirtualLoop, NetworkHost, PollerHost {
  readonly backend = name;
  readonly capabilities = capabilities;
  protected readonly poller: VirtualPoller;
  readonly seed: number;
  readonly random: SeededRandom;
  private readonly network: Network;
  /** With timeScale 0 the clock itself; otherwise its offset from scaled real time. */
  private time: number;
  private readonly timeScale: number;
  private readonly realBase: number;
  private outside: NodeJS.Immediate | undefined;
  private readonly runOutside = (): void => {
    this.outside = undefined;
    if (!this.isRunning()) this.network.runDue(this.readClock());
  };

  constructor(options: VirtualLoopOptions) {
    super(options.onError);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw new EventLoopError('ERR_INVALID_ARG', `seed must be an integer, got ${String(seed)}`);
    this.seed = checkNumber('seed', seed, 0, Number.MAX_SAFE_INTEGER);
    this.time = checkNumber('epoch', options.epoch ?? 0, 0, Number.MAX_SAFE_INTEGER);
    this.timeScale = checkNumber('timeScale', options.timeScale ?? 0, 0, 1e9);
    this.realBase = performance.now();
    this.random = new SeededRandom(this.seed);
    this.network = new Network(this, resolveLink(options.link ?? {}));
    this.poller = new VirtualPoller(this, this.timeScale);
    this.updateTime();
  }

  protected override clock(): number {
    // LoopBase's constructor reads the clock before these fields exist; ours calls updateTime() once they do.
    if (this.timeScale === undefined) return 0;
    return this.timeScale === 0 ? this.time : this.time + (performance.now() - this.realBase) * this.timeScale;
  }

  readClock(): number {
    return this.clock();
  }

  jumpTo(time: number): void {
    if (time > this.time && this.timeScale === 0) this.time = time;
  }

  advance(ms: number): void {
    this.assertNotClosed();
    this.time += checkNumber('ms', ms, 0, Number.MAX_SAFE_INTEGER);
    if (this.isPolling()) this.poller.wake();
    else if (!this.isRunning()) this.scheduleOutside();
  }

  setLink(target: LinkTarget, link: LinkOptions): void {
    this.assertNotClosed();
    this.network.setLink(target, link);
  }

  override close(): void {
    super.close();
    if (this.outside !== undefined) clearImmediate(this.outside);
    this.outside = undefined;
    this.network.clear();
  }

  /**
   * A timer (re)started or stopped while the poll waits, by code outside the loop's callbacks (a
   * microtask, a Node callback), may leave the poller's deadline stale: the kit wakes the poll
   * only for a new earliest timer, which is enough for a host timer that fires for nothing, but
   * a virtual clock would jump to the stale deadline. A tick without a jump makes the kit work
   * the deadline out again. (Inside a tick, the kit does that after the I/O callbacks anyway.)
   */
  override timerStarted(timer: KitTimer, timeout: number): void {
    super.timerStarted(timer, timeout);
    if (this.isPolling() && !this.poller.isTicking()) this.poller.wake();
  }

  override timerStopped(timer: KitTimer): void {
    super.timerStopped(timer);
    if (this.isPolling() && !this.poller.isTicking()) this.poller.wake();
  }

  // ---- PollerHost and NetworkHost ----

  networkDue(): number {
    return this.network.nextDue();
  }

  runNetwork(time: number): void {
    this.network.runDue(time);
  }

  networkScheduled(): void {
    if (this.isPolling()) this.poller.arm();
    else if (!this.isRunning()) this.scheduleOutside();
    // Running but between polls: the next poll looks at the network's queue.
  }

  /**
   * Outside `run()`, packets due now still arrive (one host turn later), so that a connect's
   * promise settles without a running loop, as on every backend; they only queue deliveries,
   * which run in the next `run()`. Packets due later wait for the clock to move.
   */
  private scheduleOutside(): void {
    if (this.outside === undefined && this.network.nextDue() <= this.readClock()) this.outside = setImmediate(this.runOutside);
  }

  // ---- operations ----

  protected startListen(options: ListenOptions, onConnection: (stream: TcpStream) => void, done: Completion<TcpServer>): void {
    const resolved = resolveListenOptions(options);
    let server: VirtualTcpServer;
    try {
      server = new VirtualTcpServer(this, this.network, this.random, this.network.listen(resolved), onConnection);
    } catch (error) {
      done(error as EventLoopError, undefined);
      return;
    }
    done(undefined, server);
  }

  protected startConnect(options: ConnectOptions, done: Completion<TcpStream>): void {
    const { host, port } = resolveConnectOptions(options);
    try {
      this.network.connect(host, port, (errno, socket) => {
        if (errno === undefined) done(undefined, new VirtualTcpStream(this, socket));
        else done(socketError(`connect to ${host}:${port} failed`, errno), undefined);
      });
    } catch (error) {
      done(error as EventLoopError, undefined);
    }
  }

  protected startServeHttp(_options: HttpServerOptions, _handler: HttpHandler, _done: Completion<HttpServer>): void {
    // The kit checks capabilities.http before it gets here; kept for a capability flipped by mistake.
    throw new UnsupportedError(this.backend, 'http', 'the virtual network has no HTTP server');
  }
}
