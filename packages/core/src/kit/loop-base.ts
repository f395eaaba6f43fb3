import { performance } from 'node:perf_hooks';
import type { Capabilities } from '../capabilities.js';
import { checkFunction, EventLoopError, UnsupportedError } from '../errors.js';
import type { HttpHandler, HttpServer, HttpServerOptions } from '../http.js';
import type { ErrorHandler, EventLoop, PendingCallback, Phase, PhaseHook, RunMode, Timer } from '../loop.js';
import type { ConnectOptions, ListenOptions, TcpServer, TcpStream } from '../stream.js';
import type { HandleBase } from './handle-base.js';
import { KitPhaseHook, type HookPhase } from './phase-hook.js';
import { KitTimer } from './timer.js';
import { TimerHeap } from './timer-heap.js';

/**
 * How a backend waits for I/O. The loop calls `poll` once per iteration and the poller calls
 * {@link LoopBase.pollDone} when the wait is over; I/O callbacks in between go through
 * {@link LoopBase.io}.
 */
export interface Poller {
  /**
   * Start waiting: at most `timeout` ms (0: do not block; `Infinity`: until woken). It must end
   * the wait later, never by calling `pollDone` from inside `poll` (that would recurse once per
   * iteration).
   */
  poll(timeout: number): void;
  /** End the current wait early, as soon as possible but never synchronously. Idempotent. */
  wake(): void;
  /** The loop stopped running: drop any host timer so the process may exit. */
  release(): void;
}

/** A callback queued by `callSoon`; the object is its own cancel handle. */
class SoonCallback implements PendingCallback {
  constructor(public callback: (() => void) | undefined) {}
  cancel(): void {
    this.callback = undefined;
  }
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

/**
 * The phase machine of {@link EventLoop}, shared by every backend that runs its iterations
 * itself and only needs to supply a {@link Poller} and the stream surface. `run` below reads
 * like the numbered list in {@link EventLoop}'s documentation; keep them in step.
 */
export abstract class LoopBase implements EventLoop {
  abstract readonly backend: string;
  abstract readonly capabilities: Capabilities;
  protected abstract readonly poller: Poller;

  /** Active, referenced handles: what keeps `run()` going. */
  refCount = 0;
  /** Handles closed whose close callbacks have not run yet. */
  closingCount = 0;
  /** Active handles and open streams/servers: what makes `close()` refuse. */
  readonly liveHandles = new Set<HandleBase>();

  private cachedNow = performance.now();
  private readonly timers = new TimerHeap<KitTimer>();
  private timerSeq = 0;
  private pending: SoonCallback[] = [];
  private spare: SoonCallback[] = [];
  private readonly hooks: Record<HookPhase, (KitPhaseHook | null)[]> = { idle: [], prepare: [], check: [] };
  private readonly hooksDirty: Record<HookPhase, boolean> = { idle: false, prepare: false, check: false };
  private activeIdle = 0;
  private activeCheck = 0;
  private closeQueue: HandleBase[] = [];
  // I/O that arrived while the loop was not running: function, receiver, argument triples.
  private deferred: unknown[] = [];

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
    this.cachedNow = performance.now();
  }

  callSoon(callback: () => void): PendingCallback {
    this.assertNotClosed();
    checkFunction('callback', callback);
    const entry = new SoonCallback(callback);
    this.pending.push(entry);
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

  alive(): boolean {
    return this.refCount > 0 || this.pending.length > 0 || this.closingCount > 0;
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
    if (this.stopRequested) {
      // libuv: a stop requested before run() makes run() return before the first iteration.
      this.stopRequested = false;
      return Promise.resolve(this.alive());
    }
    // As in libuv, I/O waiting on unreferenced handles does not make run() iterate by itself.
    if (!this.alive()) {
      this.updateTime();
      return Promise.resolve(false);
    }
    this.running = true;
    this.mode = mode;
    return new Promise<boolean>((resolve) => {
      this.resolveRun = resolve;
      this.beginIteration();
    });
  }

  close(): void {
    if (this.closed) return;
    if (this.running) throw new EventLoopError('ERR_LOOP_RUNNING', 'close() was called while the loop is running');
    if (this.liveHandles.size > 0 || this.closingCount > 0) {
      const kinds = new Map<string, number>();
      for (const handle of this.liveHandles) kinds.set(handle.kind, (kinds.get(handle.kind) ?? 0) + 1);
      const list = [...kinds].map(([kind, count]) => `${count} ${kind}`).join(', ');
      throw new EventLoopError(
        'ERR_LOOP_BUSY',
        `close() refused: handles are still live (${list || 'none'}; ${this.closingCount} closing); close them and run the loop first`,
      );
    }
    this.closed = true;
    this.pending = [];
    this.deferred = [];
    this.poller.release();
  }

  // ---- the iteration: steps 1-5, then the poll ----

  private beginIteration(): void {
    this.updateTime();
    this.runTimers();
    this.runPending();
    this.runHooks('idle');
    this.runHooks('prepare');
    this.polling = true;
    this.flushDeferred();
    this.poller.poll(this.pollTimeout());
  }

  /** Called by the poller when the wait is over: steps 7-9. */
  pollDone(): void {
    if (!this.polling) return; // a stale wake-up after the run ended
    this.polling = false;
    this.runHooks('check');
    this.runCloseQueue();
    if (this.mode === 'once') {
      this.updateTime();
      this.runTimers();
    }
    if (this.stopRequested || this.mode !== 'default' || !this.alive()) {
      this.finishRun();
    } else {
      this.beginIteration();
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

  private pollTimeout(): number {
    if (this.mode === 'nowait' || this.stopRequested || this.pending.length > 0 || this.activeIdle > 0 || this.closingCount > 0) return 0;
    if (!this.alive()) return 0;
    const next = this.timers.peek();
    return next ? Math.max(0, next.due - this.cachedNow) : Infinity;
  }

  private runTimers(): void {
    // Timers (re)started during this phase carry a sequence number at or past `limit` and wait
    // for the next iteration, so a 0 ms timer restarted from its own callback cannot spin here.
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
    this.pending = this.spare;
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as SoonCallback;
      const callback = entry.callback;
      if (!callback) continue;
      entry.callback = undefined;
      try {
        callback();
      } catch (error) {
        this.report(error, 'pending');
      }
    }
    batch.length = 0;
    this.spare = batch;
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

  private flushDeferred(): void {
    if (this.deferred.length === 0) return;
    const batch = this.deferred;
    this.deferred = [];
    for (let i = 0; i < batch.length; i += 3) {
      this.io(batch[i] as (arg: unknown) => void, batch[i + 1], batch[i + 2]);
    }
  }

  // ---- services for handles and backends ----

  /**
   * Deliver an I/O event: run `fn.call(receiver, arg)` now if the loop is polling, otherwise
   * keep it for the poll phase of the next `run()`. Errors go to the error handler. Hot path:
   * no allocation when polling (pass a method and its receiver, not a fresh closure).
   */
  io<R, A>(fn: (this: R, arg: A) => void, receiver: R, arg: A): void {
    if (!this.polling) {
      this.deferred.push(fn, receiver, arg);
      return;
    }
    // Each event ends a wait for it (libuv updates time when epoll_wait returns), so a timer
    // started from an I/O callback counts from now, not from when the poll began.
    this.cachedNow = performance.now();
    try {
      fn.call(receiver, arg);
    } catch (error) {
      this.report(error, 'poll');
    }
    // In 'default' mode without check hooks nothing waits for the poll to end, so I/O need not
    // end it: one boolean test per event instead of one host wake-up per event.
    if (this.mode !== 'default' || this.activeCheck > 0) this.poller.wake();
  }

  /** `true` while the loop is inside its poll phase (I/O callbacks run at once). */
  isPolling(): boolean {
    return this.polling;
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
  requireCapability(key: keyof Capabilities, why: string): void {
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

  /** (Re)arm a timer `timeout` ms from now. */
  timerStarted(timer: KitTimer, timeout: number): void {
    this.timers.remove(timer);
    timer.due = this.cachedNow + timeout;
    timer.seq = this.timerSeq++;
    this.timers.push(timer);
    // A poll already waiting may sleep past this timer: end it so the timeout is recomputed.
    if (this.polling && this.timers.peek() === timer) this.poller.wake();
  }

  /** Disarm a timer. */
  timerStopped(timer: KitTimer): void {
    this.timers.remove(timer);
  }

  /** Add a started hook to its phase list. */
  hookStarted(hook: KitPhaseHook): void {
    this.hooks[hook.kind].push(hook);
    if (hook.kind === 'idle') {
      this.activeIdle++;
      if (this.polling) this.poller.wake();
    } else if (hook.kind === 'check') {
      this.activeCheck++;
    }
  }

  /** Remove a stopped hook from its phase list. */
  hookStopped(hook: KitPhaseHook): void {
    const list = this.hooks[hook.kind];
    const index = list.indexOf(hook);
    if (index >= 0) {
      list[index] = null;
      this.hooksDirty[hook.kind] = true;
    }
    if (hook.kind === 'idle') this.activeIdle--;
    else if (hook.kind === 'check') this.activeCheck--;
  }

  abstract listen(options: ListenOptions, onConnection: (stream: TcpStream) => void): Promise<TcpServer>;
  abstract connect(options: ConnectOptions): Promise<TcpStream>;
  abstract serveHttp(options: HttpServerOptions, handler: HttpHandler): Promise<HttpServer>;
}
