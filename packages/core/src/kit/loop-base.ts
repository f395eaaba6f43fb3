import { performance } from 'node:perf_hooks';
import type { Capabilities } from '../capabilities.js';
import { checkFunction, EventLoopError, UnsupportedError } from '../errors.js';
import type { HttpHandler, HttpServer, HttpServerOptions } from '../http.js';
import type { Completion, ErrorHandler, EventLoop, IoWatcher, PendingCallback, Phase, PhaseHook, RunMode, Timer } from '../loop.js';
import type { ConnectOptions, ListenOptions, TcpServer, TcpStream } from '../stream.js';
import type { HandleBase } from './handle-base.js';
import { KitPhaseHook, type HookPhase } from './phase-hook.js';
import { KitTimer } from './timer.js';
import { TimerHeap } from './timer-heap.js';

/**
 * How a backend waits for I/O. While the loop is in its poll phase, the poller calls
 * {@link LoopBase.pollTick} whenever there is something to look at: the timeout elapsed, a
 * wake-up was asked for, or I/O was queued with {@link LoopBase.deliver}. The tick runs the
 * queued I/O and then either ends the poll phase or calls `poll` again with a new timeout.
 *
 * Rules a poller keeps (each one is what a kit loop relies on):
 * - `pollTick` is never called from inside `poll` or `wake` (that would recurse once per
 *   iteration); it runs later, from the host's own event loop.
 * - A timeout never ends early: a host timer that fires before the deadline is re-armed for the
 *   rest, so that the timer the poll waited for is really due when the tick runs.
 * - `wake()` may arrive before `poll()` in the same iteration (the loop wakes the poller as it
 *   enters the poll phase with I/O already queued): the tick it asks for must still happen.
 * - Waiting never blocks the JavaScript thread and never spins: it is a return to the host.
 */
export interface Poller {
  /**
   * Call `pollTick` once `timeout` ms have passed (0: as soon as possible; `Infinity`: only when
   * woken or when I/O arrives). A second call during the same poll phase replaces the timeout.
   */
  poll(timeout: number): void;
  /** Call `pollTick` soon, but never synchronously. Idempotent until the tick runs. */
  wake(): void;
  /** The loop stopped running: drop any host timer or immediate so the process may exit. */
  release(): void;
}

/** A callback queued by `callSoon`; the object is its own cancel handle. */
class SoonCallback implements PendingCallback {
  constructor(
    private readonly loop: LoopBase,
    public callback: ((arg: unknown) => void) | undefined,
    public arg: unknown,
  ) {}

  cancel(): void {
    if (this.callback === undefined) return;
    this.callback = undefined;
    this.arg = undefined;
    this.loop.pendingCancelled();
  }
}

/** A finished callback-form operation, waiting for its poll phase. */
interface DoneOperation {
  callback: (error: EventLoopError | undefined, result: unknown) => void;
  error: EventLoopError | undefined;
  result: unknown;
}

/** Default error handler: print with the stack, then the process's uncaught-error path if anyone listens. */
export function reportToProcess(error: unknown, phase: Phase): void {
  const text = error instanceof Error && error.stack ? error.stack : String(error);
  process.stderr.write(`@loop: a ${phase} callback threw (the loop goes on):\n${text}\n`);
  if (process.listenerCount('uncaughtException') > 0) {
    const emit = process.emit.bind(process) as (event: string, ...args: unknown[]) => boolean;
    emit('uncaughtException', error instanceof Error ? error : new Error(String(error)), 'uncaughtException');
  }
}

const MODES: ReadonlySet<string> = new Set(['default', 'once', 'nowait']);

/** Wrap whatever an operation failed with as the {@link EventLoopError} its completion promises. */
function asLoopError(error: unknown): EventLoopError {
  return error instanceof EventLoopError ? error : new EventLoopError('ERR_INVALID_ARG', String(error), { cause: error });
}

/**
 * The phase machine of {@link EventLoop}, shared by every backend that runs its iterations
 * itself and only needs to supply a {@link Poller} and the stream surface. `run`, `iterate` and
 * `endPoll` below read like the numbered list in {@link EventLoop}'s documentation; keep them in
 * step.
 */
export abstract class LoopBase implements EventLoop {
  abstract readonly backend: string;
  abstract readonly capabilities: Capabilities;
  protected abstract readonly poller: Poller;

  /** Active, referenced handles: what keeps `run()` going. */
  refCount = 0;
  /** Handles closed whose close callbacks have not run yet. */
  closingCount = 0;
  /**
   * Active handles and open streams/servers, counted by kind: what makes `close()` refuse, and
   * what it names. Counts, not a set of handles: a set rehashes as it grows and shrinks, and
   * timers start and stop once per request.
   */
  readonly liveHandles = new Map<string, number>();
  /** The sum of {@link liveHandles}. */
  liveCount = 0;

  private cachedNow = this.clock();
  private readonly timers = new TimerHeap<KitTimer>();
  private timerSeq = 0;
  private pending: SoonCallback[] = [];
  private pendingSpare: SoonCallback[] = [];
  /** Queued and not cancelled: only these keep the loop alive and the poll from blocking. */
  private pendingLive = 0;
  private readonly hooks: Record<HookPhase, (KitPhaseHook | null)[]> = { idle: [], prepare: [], check: [] };
  private readonly hooksDirty: Record<HookPhase, boolean> = { idle: false, prepare: false, check: false };
  private readonly activeHooks: Record<HookPhase, number> = { idle: 0, prepare: 0, check: 0 };
  private closeQueue: HandleBase[] = [];
  /** Operations in flight (listen, connect, serveHttp): libuv's active requests. */
  private operations = 0;
  // I/O events waiting for a poll phase, as function, receiver, argument triples (no object per event).
  private ioQueue: unknown[] = [];
  private ioSpare: unknown[] = [];
  /** The due time the poller was last armed for in this poll phase, so an unchanged wait is not re-armed. */
  private armedDue = Number.NaN;

  private running = false;
  private polling = false;
  private stopRequested = false;
  private closed = false;
  private mode: RunMode = 'default';
  private resolveRun: ((alive: boolean) => void) | undefined;
  private onError: ErrorHandler;

  constructor(onError: ErrorHandler = reportToProcess) {
    this.onError = onError;
  }

  now(): number {
    return this.cachedNow;
  }

  updateTime(): void {
    this.cachedNow = this.clock();
  }

  /**
   * Read the loop's clock (ms, monotonic). The kit reads it through this method only, so a
   * backend with a clock of its own (virtual time) overrides it; the default is Node's
   * `performance.now()`. The first call comes from the kit's constructor, before a subclass's
   * own fields are set: an override must cope (and may call `updateTime()` once they are).
   */
  protected clock(): number {
    return performance.now();
  }

  callSoon<A = undefined>(callback: (arg: A) => void, arg?: A): PendingCallback {
    this.assertNotClosed();
    checkFunction('callback', callback);
    const entry = new SoonCallback(this, callback as (arg: unknown) => void, arg);
    this.pending.push(entry);
    this.pendingLive++;
    if (this.polling) this.poller.wake();
    return entry;
  }

  timer(callback: (timer: Timer) => void): Timer {
    this.assertNotClosed();
    checkFunction('callback', callback);
    return new KitTimer(this, callback);
  }

  idle(callback: (hook: PhaseHook) => void): PhaseHook {
    return this.hook('idle', callback);
  }

  prepare(callback: (hook: PhaseHook) => void): PhaseHook {
    return this.hook('prepare', callback);
  }

  check(callback: (hook: PhaseHook) => void): PhaseHook {
    return this.hook('check', callback);
  }

  private hook(phase: HookPhase, callback: (hook: PhaseHook) => void): PhaseHook {
    this.assertNotClosed();
    this.requireCapability(phase, 'this backend has no such phase');
    checkFunction('callback', callback);
    return new KitPhaseHook(this, phase, callback);
  }

  io(fd: number, callback: (watcher: IoWatcher, events: number) => void): IoWatcher {
    this.assertNotClosed();
    this.requireCapability('io', 'this backend cannot watch file descriptors');
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw new EventLoopError('ERR_INVALID_ARG', `fd must be a non-negative integer, got ${String(fd)}`);
    }
    checkFunction('callback', callback);
    return this.createIoWatcher(fd, callback);
  }

  /**
   * Make the backend's {@link IoWatcher} for `fd` (already checked). Backends that declare
   * `capabilities.io` override this; the kit never calls it otherwise.
   */
  protected createIoWatcher(_fd: number, _callback: (watcher: IoWatcher, events: number) => void): IoWatcher {
    throw new UnsupportedError(this.backend, 'io', 'this backend declares io but does not implement createIoWatcher');
  }

  alive(): boolean {
    return this.refCount > 0 || this.pendingLive > 0 || this.closingCount > 0 || this.operations > 0;
  }

  isRunning(): boolean {
    return this.running;
  }

  stop(): void {
    this.stopRequested = true;
    if (this.polling) this.poller.wake();
  }

  setErrorHandler(handler: ErrorHandler): ErrorHandler {
    checkFunction('handler', handler);
    const previous = this.onError;
    this.onError = handler;
    return previous;
  }

  run(mode: RunMode = 'default'): Promise<boolean> {
    this.assertNotClosed();
    if (this.running) throw new EventLoopError('ERR_LOOP_RUNNING', 'run() is not reentrant: the loop is already running');
    if (!MODES.has(mode)) throw new EventLoopError('ERR_INVALID_ARG', `run mode must be 'default', 'once' or 'nowait', got '${String(mode)}'`);
    if (mode === 'once') this.requireCapability('runOnce', 'this backend cannot run a single iteration');
    if (mode === 'nowait') this.requireCapability('runNowait', 'this backend cannot poll without blocking');
    // libuv: a loop that is not alive only updates its time; a stop requested before run()
    // makes run() return before the first iteration (and is cleared).
    if (!this.alive()) this.updateTime();
    if (this.stopRequested || !this.alive()) {
      this.stopRequested = false;
      return Promise.resolve(this.alive());
    }
    this.running = true;
    this.mode = mode;
    return new Promise<boolean>((resolve) => {
      this.resolveRun = resolve;
      // Step 0: libuv ≥ 1.45 runs due timers once before the first iteration in default mode only.
      // Its loop condition still holds the liveness read before them, so the first iteration runs
      // even when those timers left nothing alive (unreferenced hooks then run once); only a
      // stop() from one of them prevents it.
      if (mode === 'default') {
        this.updateTime();
        this.runTimers();
        if (this.stopRequested) {
          this.finishRun();
          return;
        }
      }
      this.iterate();
    });
  }

  close(): void {
    if (this.closed) return;
    if (this.running) throw new EventLoopError('ERR_LOOP_RUNNING', 'close() was called while the loop is running');
    if (this.liveCount > 0 || this.closingCount > 0 || this.operations > 0) {
      const list = [...this.liveHandles]
        .filter(([, count]) => count > 0)
        .map(([kind, count]) => `${count} ${kind}`)
        .join(', ');
      throw new EventLoopError(
        'ERR_LOOP_BUSY',
        `close() refused: handles are still live (${list || 'none'}; ${this.closingCount} closing; ${this.operations} operations in flight); close them and run the loop first`,
      );
    }
    this.closed = true;
    this.pending = [];
    this.pendingLive = 0;
    this.ioQueue = [];
    this.poller.release();
  }

  // ---- one iteration: steps 1-4, then the poll phase runs in ticks, then steps 5-8 ----

  private iterate(): void {
    // libuv's can_sleep: decided before the pending and idle phases run, so an idle hook that
    // stops itself (or a callback that empties the queue) cannot make run('once') block.
    const canSleep = this.pendingLive === 0 && this.activeHooks.idle === 0;
    this.runPending();
    this.runHooks('idle');
    this.runHooks('prepare');
    this.polling = true;
    const timeout = this.mode === 'default' || (this.mode === 'once' && canSleep) ? this.pollTimeout() : 0;
    // I/O that arrived while the loop was not polling is ready now: the first tick runs it.
    if (this.ioQueue.length > 0) this.poller.wake();
    this.armedDue = timeout === 0 ? Number.NaN : this.nextDue();
    this.poller.poll(timeout);
  }

  /**
   * Called by the {@link Poller} during the poll phase (see its rules): reads the clock once for
   * the batch, runs the I/O queued so far, then ends the poll phase or goes on waiting.
   *
   * Staying in the poll phase across batches is libuv's iteration with nothing in between: it is
   * done only in `'default'` mode while no check or prepare hook, pending callback, pending close,
   * due timer or stop request would make another iteration observable.
   */
  pollTick(): void {
    if (!this.polling) return; // a stale tick after the poll phase ended
    this.cachedNow = this.clock();
    this.runIo();
    this.pollIo();
    if (this.mode === 'default' && this.activeHooks.check === 0 && this.activeHooks.prepare === 0 && this.ioQueue.length === 0) {
      const timeout = this.pollTimeout();
      if (timeout > 0) {
        const due = this.nextDue();
        if (due !== this.armedDue) {
          this.armedDue = due;
          this.poller.poll(timeout);
        }
        return;
      }
    }
    this.endPoll();
  }

  /**
   * Run the I/O a backend reads by itself, once per poll tick: after the clock was read for the
   * batch and the I/O queued with {@link deliver} has run, still inside the poll phase. The default
   * does nothing (backends whose events all come through `deliver`). A backend with its own event
   * source (an epoll fd drained with a zero timeout, say) overrides it to dispatch a whole batch
   * without queueing each event. An override never blocks, passes every error a user callback
   * throws to {@link report} with phase `'poll'`, and uses `deliver` for anything that must not
   * run before the next tick.
   */
  protected pollIo(): void {}

  /** Steps 5-8. */
  private endPoll(): void {
    this.polling = false;
    this.runHooks('check');
    this.runCloseQueue();
    this.updateTime();
    this.runTimers();
    if (this.stopRequested || this.mode !== 'default' || !this.alive()) {
      this.finishRun();
    } else {
      this.iterate();
    }
  }

  private finishRun(): void {
    this.running = false;
    this.stopRequested = false;
    this.poller.release();
    const resolve = this.resolveRun;
    this.resolveRun = undefined;
    resolve?.(this.alive());
  }

  /** libuv's `uv__backend_timeout`. */
  private pollTimeout(): number {
    if (
      this.mode === 'nowait' ||
      this.stopRequested ||
      this.pendingLive > 0 ||
      this.activeHooks.idle > 0 ||
      this.closeQueue.length > 0 ||
      !this.alive()
    ) {
      return 0;
    }
    const next = this.timers.peek();
    return next ? Math.max(0, next.due - this.cachedNow) : Infinity;
  }

  private nextDue(): number {
    return this.timers.peek()?.due ?? Infinity;
  }

  private runTimers(): void {
    // Timers (re)started during this phase carry a sequence number at or past `limit` and wait
    // for the next iteration, so a 0 ms timer restarted from its own callback cannot spin here,
    // and an overdue repeating timer runs once per phase, not once per missed interval.
    const limit = this.timerSeq;
    for (;;) {
      const timer = this.timers.peek();
      if (!timer || timer.due > this.cachedNow || timer.seq >= limit) return;
      this.timers.remove(timer);
      try {
        timer.fire();
      } catch (error) {
        this.report(error, 'timer');
      }
    }
  }

  private runPending(): void {
    if (this.pending.length === 0) return;
    // Swap in the spare array so callbacks queued from here on wait for the next iteration.
    const batch = this.pending;
    this.pending = this.pendingSpare;
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as SoonCallback;
      const callback = entry.callback;
      if (!callback) continue;
      const arg = entry.arg;
      entry.callback = undefined;
      entry.arg = undefined;
      this.pendingLive--;
      try {
        callback(arg);
      } catch (error) {
        this.report(error, 'pending');
      }
    }
    batch.length = 0;
    this.pendingSpare = batch;
  }

  private runHooks(phase: HookPhase): void {
    const list = this.hooks[phase];
    // Hooks started during the phase sit past `count` and first run next iteration; a hook
    // stopped during the phase has its slot nulled, so it never runs after its stop.
    const count = list.length;
    for (let i = 0; i < count; i++) {
      const hook = list[i];
      if (!hook) continue;
      try {
        hook.callback(hook);
      } catch (error) {
        this.report(error, phase);
      }
    }
    if (this.hooksDirty[phase]) {
      this.hooks[phase] = list.filter((hook) => hook !== null);
      this.hooksDirty[phase] = false;
    }
  }

  private runCloseQueue(): void {
    if (this.closeQueue.length === 0) return;
    const batch = this.closeQueue;
    this.closeQueue = [];
    for (const handle of batch) {
      try {
        handle.runCloseCallbacks();
      } catch (error) {
        this.report(error, 'close');
      }
    }
  }

  private runIo(): void {
    const batch = this.ioQueue;
    if (batch.length === 0) return;
    // Events queued by these callbacks go to the other array and run in the next tick of this
    // poll phase (deliver wakes the poller for them), so a chain of them cannot starve the loop.
    this.ioQueue = this.ioSpare;
    for (let i = 0; i < batch.length; i += 3) {
      try {
        (batch[i] as (arg: unknown) => void).call(batch[i + 1], batch[i + 2]);
      } catch (error) {
        this.report(error, 'poll');
      }
    }
    batch.length = 0;
    this.ioSpare = batch;
  }

  // ---- operations: listen, connect, serveHttp ----

  listen(options: ListenOptions, onConnection: (stream: TcpStream) => void, callback: Completion<TcpServer>): void;
  listen(options: ListenOptions, onConnection: (stream: TcpStream) => void): Promise<TcpServer>;
  listen(options: ListenOptions, onConnection: (stream: TcpStream) => void, callback?: Completion<TcpServer>): Promise<TcpServer> | void {
    return this.operation(callback, (done) => {
      checkFunction('onConnection', onConnection);
      this.requireCapability('tcp', 'this backend has no raw TCP');
      this.startListen(options, onConnection, done);
    });
  }

  connect(options: ConnectOptions, callback: Completion<TcpStream>): void;
  connect(options: ConnectOptions): Promise<TcpStream>;
  connect(options: ConnectOptions, callback?: Completion<TcpStream>): Promise<TcpStream> | void {
    return this.operation(callback, (done) => {
      this.requireCapability('tcp', 'this backend has no raw TCP');
      this.startConnect(options, done);
    });
  }

  serveHttp(options: HttpServerOptions, handler: HttpHandler, callback: Completion<HttpServer>): void;
  serveHttp(options: HttpServerOptions, handler: HttpHandler): Promise<HttpServer>;
  serveHttp(options: HttpServerOptions, handler: HttpHandler, callback?: Completion<HttpServer>): Promise<HttpServer> | void {
    return this.operation(callback, (done) => {
      checkFunction('handler', handler);
      this.requireCapability('http', 'this backend has no HTTP server');
      // Checked here so that a backend without WebSocket support can never ignore the option.
      if (typeof options === 'object' && options !== null && options.websocket !== undefined) {
        this.requireCapability('websocket', 'this backend has no WebSocket server');
      }
      this.startServeHttp(options, handler, done);
    });
  }

  /**
   * Bind and listen. Throw for bad options (synchronously); report everything else through
   * `done`, exactly once, at any later time (or at once: the kit defers the user's callback).
   */
  protected abstract startListen(options: ListenOptions, onConnection: (stream: TcpStream) => void, done: Completion<TcpServer>): void;
  /** Connect; the rules of {@link LoopBase.startListen}. */
  protected abstract startConnect(options: ConnectOptions, done: Completion<TcpStream>): void;
  /** Serve HTTP; the rules of {@link LoopBase.startListen}. */
  protected abstract startServeHttp(options: HttpServerOptions, handler: HttpHandler, done: Completion<HttpServer>): void;

  /**
   * Run an operation in its callback form (the completion is delivered in the poll phase) or its
   * promise form (settled as soon as the backend reports, running or not). Either way it keeps
   * the loop alive until it completes.
   */
  private operation<T>(callback: Completion<T> | undefined, start: (done: Completion<T>) => void): Promise<T> | void {
    if (callback !== undefined) {
      this.assertNotClosed();
      checkFunction('callback', callback);
      this.operations++;
      let settled = false;
      const done: Completion<T> = (error, result) => {
        if (settled) return;
        settled = true;
        const finished: DoneOperation = { callback: callback as DoneOperation['callback'], error, result };
        this.deliver(this.completeOperation, this, finished);
      };
      try {
        start(done);
      } catch (error) {
        if (!settled) this.operations--;
        settled = true;
        throw error;
      }
      return;
    }
    return new Promise<T>((resolve, reject) => {
      this.assertNotClosed();
      this.operations++;
      let settled = false;
      const done: Completion<T> = (error, result) => {
        if (settled) return;
        settled = true;
        this.operationEnded();
        if (error) reject(error);
        else resolve(result as T);
      };
      try {
        start(done);
      } catch (error) {
        done(asLoopError(error), undefined);
      }
    });
  }

  private completeOperation(finished: DoneOperation): void {
    this.operationEnded();
    finished.callback(finished.error, finished.result);
  }

  private operationEnded(): void {
    this.operations--;
    // The loop may have been waiting for nothing but this operation.
    if (this.polling) this.poller.wake();
  }

  // ---- services for handles and backends ----

  /**
   * Queue an I/O event: `fn.call(receiver, arg)` runs in the poll phase, this one if the loop is
   * polling (the poller is woken for it), else the next run's. It never runs synchronously, so
   * a backend may call this from anywhere, inside user code included (an `EPIPE` found during
   * `write()`, say). Errors go to the error handler. Hot path: no allocation beyond the queue's
   * growth (pass a method and its receiver, not a fresh closure).
   */
  deliver<R, A>(fn: (this: R, arg: A) => void, receiver: R, arg: A): void {
    const queue = this.ioQueue;
    queue.push(fn, receiver, arg);
    if (queue.length === 3 && this.polling) this.poller.wake();
  }

  /** `true` while the loop is inside its poll phase (queued I/O runs in the next tick). */
  isPolling(): boolean {
    return this.polling;
  }

  reportError(error: unknown, phase: Phase): void {
    this.report(error, phase);
  }

  /** Pass an error thrown by a user callback to the error handler; a throwing handler is printed, never rethrown. */
  report(error: unknown, phase: Phase): void {
    try {
      this.onError(error, phase);
    } catch (handlerError) {
      reportToProcess(handlerError, phase);
      reportToProcess(error, phase);
    }
  }

  /** Throw {@link UnsupportedError} unless `capabilities[key]` is true. */
  requireCapability(key: Exclude<keyof Capabilities, 'httpLimits'>, why: string): void {
    if (!this.capabilities[key]) throw new UnsupportedError(this.backend, key, why);
  }

  /** Throw `ERR_LOOP_CLOSED` after `close()`. */
  assertNotClosed(): void {
    if (this.closed) throw new EventLoopError('ERR_LOOP_CLOSED', 'the loop was closed');
  }

  /** Queue a closing handle's callbacks for the close phase. */
  queueClose(handle: HandleBase): void {
    this.closeQueue.push(handle);
    if (this.polling) this.poller.wake();
  }

  /** A pending callback was cancelled: it no longer keeps the loop alive. */
  pendingCancelled(): void {
    this.pendingLive--;
  }

  /** (Re)arm a timer `timeout` ms from now. Allocates nothing. */
  timerStarted(timer: KitTimer, timeout: number): void {
    this.timers.remove(timer);
    timer.due = this.cachedNow + timeout;
    timer.seq = this.timerSeq++;
    this.timers.push(timer);
    // A poll already waiting may sleep past this timer: a tick re-arms it for the new timeout.
    if (this.polling && this.timers.peek() === timer) this.poller.wake();
  }

  /** Disarm a timer. */
  timerStopped(timer: KitTimer): void {
    this.timers.remove(timer);
  }

  /** Add a started hook to its phase list. */
  hookStarted(hook: KitPhaseHook): void {
    this.hooks[hook.kind].push(hook);
    this.activeHooks[hook.kind]++;
    if (hook.kind === 'idle' && this.polling) this.poller.wake();
  }

  /** Remove a stopped hook from its phase list. */
  hookStopped(hook: KitPhaseHook): void {
    const list = this.hooks[hook.kind];
    const index = list.indexOf(hook);
    if (index >= 0) {
      list[index] = null;
      this.hooksDirty[hook.kind] = true;
    }
    this.activeHooks[hook.kind]--;
  }
}
