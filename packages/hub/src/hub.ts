import { performance } from 'node:perf_hooks';
import { EventLoopError, type EventLoop, type PendingCallback, type Phase, type Timer } from '@loop/core';
import { GreenletFailure, HubError, InvalidArgumentError, checkFunction, checkOptions, checkTimeout } from './errors.js';
import { Greenlet, type GreenletBody, type GreenletResult } from './greenlet.js';
import { currentHub } from './waiting.js';

/**
 * Receives every error the hub reports: a spawned greenlet that died of an exception (with
 * that greenlet), or a link callback that threw (without one). It runs in the hub, in main code.
 */
export type HubErrorHandler = (error: unknown, greenlet: Greenlet | undefined) => void;

/** Options of a {@link Hub}. */
export interface HubOptions {
  /**
   * Where errors go (see {@link HubErrorHandler}). The default passes them to the loop's own
   * error handler, a greenlet's failure wrapped in a {@link GreenletFailure} whose stack ends the
   * way gevent prints it (`<Greenlet "name": fn> failed with TypeError`).
   */
  onError?: HubErrorHandler;
  /**
   * How long (ms) the hub may run ready greenlets before it lets the loop poll for I/O; gevent's
   * switch interval. Default 5.
   */
  switchInterval?: number;
}

/** A hub queue entry: `fn(a, b, c)`, run in the hub (main code) in arrival order. */
type Entry = (a: unknown, b: unknown, c: unknown) => void;

/** Entries between two looks at the clock while draining (a clock read costs more than an entry). */
const CLOCK_EVERY = 64;
/** Idle timers the hub keeps for reuse; more are closed. */
const TIMER_POOL = 256;

/**
 * A loop timer the hub reuses for sleeps, waits with a timeout, {@link Timeout}s and
 * `spawnLater`: starting and stopping one allocates nothing once the pool is warm.
 */
export class TimerSlot {
  readonly timer: Timer;
  fn: ((a: unknown, b: unknown) => void) | undefined = undefined;
  a: unknown = undefined;
  b: unknown = undefined;

  constructor(hub: Hub) {
    this.timer = hub.loop.timer(() => hub.fireTimer(this));
  }
}

/** The hub of each loop handed out by {@link getHub}: explicit (keyed by the loop), and reset by `destroy()`. */
const hubs = new WeakMap<EventLoop, Hub>();

/**
 * gevent's hub over one {@link EventLoop}: it runs greenlets and resumes them when what they wait
 * for happens. The hub is the main greenlet (code outside every greenlet, which includes every
 * loop callback): a greenlet blocks by switching to it, and the hub switches back from a loop
 * callback when the loop delivers.
 *
 * It needs nothing from the loop but what every backend has: `callSoon` and timers (and, for
 * `run`, `run()`/`stop()`/`alive()`; for default error reports, the loop's error handler).
 *
 * ## Where greenlets run
 * Everything ready to run (a spawned greenlet, a `sleep(0)`, the waiters of an `Event` that was
 * set, a released lock's next holder, ...) goes into the hub's queue. The queue is drained by one
 * `callSoon` callback, in the loop's **pending** phase, in FIFO order; greenlets made ready while
 * it drains run in the same drain, so a `sleep(0)` lets every other ready greenlet run before the
 * loop polls for I/O and then returns (gevent's semantic). A drain that has run longer than
 * `switchInterval` hands the rest to the next iteration, so that I/O is never starved. Greenlets
 * woken by their own timer (`sleep(ms)`, a wait's timeout, a {@link Timeout}, `spawnLater`) run
 * straight from that timer, in the **timer** phase.
 *
 * Spawned greenlets are children of the main greenlet (the hub), never of whoever spawned them:
 * a greenlet's death returns to the hub and never resumes an unrelated waiter.
 *
 * @example
 * ```ts
 * import { createLoop } from '@loop/core';
 * import { getHub, sleep } from '@loop/hub';
 * const loop = await createLoop();
 * const hub = getHub(loop);
 * const answer = await hub.run(function* () {
 *   yield* sleep(10);   // this greenlet sleeps, the loop goes on
 *   return 42;
 * });
 * loop.close();
 * ```
 */
export class Hub {
  /** The loop this hub runs on. */
  readonly loop: EventLoop;

  #queue: unknown[] = [];
  #spare: unknown[] = [];
  #drainCall: PendingCallback | undefined = undefined;
  #draining = false;
  #timers: TimerSlot[] = [];
  #onError: HubErrorHandler;
  readonly #switchInterval: number;
  #destroyed = false;
  #phase: Phase = 'pending';
  #ids = 0;

  /**
   * Create the hub of `loop` and make it the one {@link getHub}`(loop)` returns (use this form to
   * pass options; `getHub(loop)` creates one with the defaults).
   * @throws InvalidArgumentError for a value that is not a loop, bad options, or a loop that
   *   already has a live hub
   */
  constructor(loop: EventLoop, options?: HubOptions) {
    if (typeof loop !== 'object' || loop === null || typeof loop.callSoon !== 'function' || typeof loop.timer !== 'function') {
      throw new InvalidArgumentError(`a hub needs an EventLoop, got ${loop === null ? 'null' : typeof loop}`);
    }
    checkOptions('options', options);
    if (options?.onError !== undefined) checkFunction('options.onError', options.onError);
    const interval = checkTimeout('options.switchInterval', options?.switchInterval);
    const existing = hubs.get(loop);
    if (existing !== undefined && !existing.#destroyed) {
      throw new InvalidArgumentError('this loop already has a hub: use getHub(loop), or destroy() the old hub first');
    }
    this.loop = loop;
    this.#onError = options?.onError ?? this.#reportToLoop;
    this.#switchInterval = interval ?? 5;
    hubs.set(loop, this);
  }

  /** `true` once {@link Hub.destroy} was called. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Create a greenlet that runs `fn(...args)` and schedule its start (gevent's `spawn`). `fn` is
   * normally a generator function, which blocks with `yield*`; a plain function runs to its end
   * in one go. The greenlet starts in the hub's next drain (pending phase), after the greenlets
   * already ready, and its parent is the hub.
   * @throws InvalidArgumentError when `fn` is not a function; HubError `ERR_HUB_DESTROYED`
   */
  spawn<F extends GreenletBody>(fn: F, ...args: Parameters<F>): Greenlet<GreenletResult<F>> {
    const greenlet = new Greenlet<GreenletResult<F>>(this, fn, args);
    greenlet.start();
    return greenlet;
  }

  /**
   * {@link Hub.spawn}, started `ms` ms from now, from a timer (timer phase).
   * @throws InvalidArgumentError for a bad `ms` or `fn`; HubError `ERR_HUB_DESTROYED`
   */
  spawnLater<F extends GreenletBody>(ms: number, fn: F, ...args: Parameters<F>): Greenlet<GreenletResult<F>> {
    const greenlet = new Greenlet<GreenletResult<F>>(this, fn, args);
    greenlet.startLater(ms);
    return greenlet;
  }

  /**
   * Run `fn(...args)` as a greenlet on this hub until it finishes: the way a program starts. The
   * loop runs (`loop.run()`) until the greenlet is done, then stops; the promise resolves with
   * what the greenlet returned, or rejects with the exception it died of (which is not passed to
   * the error handler as well: the rejection is its report).
   *
   * If the loop runs out of work while the greenlet is still blocked (nothing could ever wake
   * it), a {@link HubError} `ERR_HUB_LOOP_EXIT` is raised in the greenlet (gevent's `LoopExit`),
   * so its `finally` blocks run; if it blocks again with nothing left, the promise rejects with it.
   *
   * Greenlets still blocked when it returns stay suspended, as gevent leaves them at exit: kill
   * what holds resources (a {@link Group} in the main greenlet's `finally` does it).
   *
   * It returns a promise, the way `loop.run()` does: nothing in this codebase blocks the thread.
   * @throws EventLoopError `ERR_LOOP_RUNNING` (synchronously) when the loop is already running;
   *   InvalidArgumentError when `fn` is not a function; HubError `ERR_HUB_DESTROYED`
   * @example
   * ```ts
   * const value = await getHub(loop).run(function* (n: number) {
   *   yield* sleep(5);
   *   return n * 2;
   * }, 21); // 42
   * ```
   */
  run<F extends GreenletBody>(fn: F, ...args: Parameters<F>): Promise<GreenletResult<F>> {
    if (this.loop.isRunning()) {
      throw new EventLoopError('ERR_LOOP_RUNNING', 'hub.run() runs the loop, which is already running: spawn the greenlet instead');
    }
    const main = new Greenlet<GreenletResult<F>>(this, fn, args);
    main.quiet();
    main.link(stopLoop);
    main.start();
    return this.#runUntilDone(main);
  }

  async #runUntilDone<T>(main: Greenlet<T>): Promise<T> {
    let exitRaised = false;
    while (!main.ready) {
      await this.loop.run();
      if (main.ready || this.loop.alive()) continue;
      // Nothing can wake the main greenlet any more: raise LoopExit in it (once), so that its
      // finally blocks run; the loop is alive again for that.
      const exit = new HubError(
        'ERR_HUB_LOOP_EXIT',
        `the loop ran out of work while ${String(main)} was still blocked: nothing could ever wake it`,
      );
      if (exitRaised || this.#destroyed) throw exit;
      exitRaised = true;
      this.schedule(interruptEntry, main, exit, undefined);
    }
    if (main.successful) return main.value as T;
    throw main.exception;
  }

  /**
   * Replace the error handler (see {@link HubOptions.onError}); returns the previous one.
   * @throws InvalidArgumentError when `handler` is not a function
   */
  setErrorHandler(handler: HubErrorHandler): HubErrorHandler {
    checkFunction('handler', handler);
    const previous = this.#onError;
    this.#onError = handler;
    return previous;
  }

  /**
   * Detach the hub from its loop: queued work is dropped, and {@link getHub}`(loop)` makes a new
   * hub from now on (tests reset the default this way). Its idle timers are stopped timers, which
   * keep nothing alive and do not stop `loop.close()`. Greenlets still blocked stay suspended (a
   * timer they wait on stays active: kill them first); the loop stays the caller's to close.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#drainCall?.cancel();
    this.#drainCall = undefined;
    this.#queue = [];
    this.#spare = [];
    this.#timers = [];
    if (hubs.get(this.loop) === this) hubs.delete(this.loop);
  }

  /** `Hub<libuv>`. */
  toString(): string {
    return `Hub<${this.loop.backend}${this.#destroyed ? ' destroyed' : ''}>`;
  }

  // ---- services for the package's primitives (main code only where noted) ----

  /**
   * @internal Queue `fn(a, b, c)` to run in the hub's drain, after what is already queued. Safe
   * anywhere (inside greenlets, callbacks, microtasks); dropped once the hub is destroyed.
   */
  schedule(fn: Entry, a: unknown, b: unknown, c: unknown): void {
    if (this.#destroyed) return;
    this.#queue.push(fn, a, b, c);
    if (!this.#draining && this.#drainCall === undefined) this.#drainCall = this.loop.callSoon(drainHub, this);
  }

  /** @internal Throw `ERR_HUB_DESTROYED` after `destroy()`. */
  assertLive(): void {
    if (this.#destroyed) throw new HubError('ERR_HUB_DESTROYED', 'this hub was destroyed');
  }

  /**
   * @internal Main code only. Resume `greenlet` with `value` if it still waits with `token`
   * (see the token rule in waiting.ts); the greenlet runs until it blocks again or ends.
   */
  resume(greenlet: Greenlet, token: number, value: unknown): void {
    if (greenlet.token !== token) return;
    greenlet.token = token + 1;
    try {
      greenlet.switch(value);
    } catch (error) {
      // Only a raw greenlet (not spawned by a hub) can let an exception reach the hub.
      this.reportError(error, undefined);
    }
  }

  /** @internal Main code only. Like {@link Hub.resume}, raising `error` in the greenlet instead. */
  resumeThrow(greenlet: Greenlet, token: number, error: unknown): void {
    if (greenlet.token !== token) return;
    this.#throwInto(greenlet, error);
  }

  /**
   * @internal Main code only. Raise `error` in a started greenlet wherever it is suspended,
   * whatever it waits for (a kill, a {@link Timeout}); any wake-up it was waiting for goes stale.
   */
  interrupt(greenlet: Greenlet, error: unknown): void {
    if (greenlet.ready) return;
    this.#throwInto(greenlet, error);
  }

  #throwInto(greenlet: Greenlet, error: unknown): void {
    greenlet.token++;
    try {
      greenlet.throw(error);
    } catch (escaped) {
      this.reportError(escaped, undefined);
    }
  }

  /** @internal Main code only: switch into a greenlet that is due to start. */
  startNow(greenlet: Greenlet): void {
    try {
      greenlet.switch();
    } catch (error) {
      this.reportError(error, undefined);
    }
  }

  /**
   * @internal Start a pooled timer: `fn(a, b)` runs in the timer phase after `ms` ms, unless
   * the slot is released first. The loop's time is refreshed first (greenlets may have run for
   * a while since the loop read its clock), so the delay counts from now.
   */
  acquireTimer(ms: number, fn: (a: unknown, b: unknown) => void, a: unknown, b: unknown): TimerSlot {
    this.assertLive();
    const slot = this.#timers.pop() ?? new TimerSlot(this);
    slot.fn = fn;
    slot.a = a;
    slot.b = b;
    this.loop.updateTime();
    slot.timer.start(ms);
    return slot;
  }

  /** @internal Stop a pooled timer and keep it for reuse. Idempotent per acquisition. */
  releaseTimer(slot: TimerSlot): void {
    if (slot.fn === undefined) return;
    slot.fn = undefined;
    slot.a = slot.b = undefined;
    slot.timer.stop();
    if (this.#destroyed) return;
    if (this.#timers.length < TIMER_POOL) this.#timers.push(slot);
    else slot.timer.close();
  }

  /** @internal A pooled timer went off (timer phase). */
  fireTimer(slot: TimerSlot): void {
    const fn = slot.fn;
    if (fn === undefined) return;
    this.#phase = 'timer';
    try {
      fn(slot.a, slot.b);
    } catch (error) {
      this.reportError(error, undefined);
    } finally {
      this.#phase = 'pending';
    }
  }

  /** @internal A fresh small id, for default greenlet names. */
  nextId(): number {
    return ++this.#ids;
  }

  /** @internal Pass an error to the error handler; a throwing handler is printed, never rethrown. */
  reportError(error: unknown, greenlet: Greenlet | undefined): void {
    try {
      this.#onError(error, greenlet);
    } catch (handlerError) {
      process.stderr.write(`@loop/hub: the error handler threw:\n${stackOf(handlerError)}\nwhile reporting:\n${stackOf(error)}\n`);
    }
  }

  /** The default error handler: the loop's own handler, in the phase the hub is running in. */
  readonly #reportToLoop = (error: unknown, greenlet: Greenlet | undefined): void => {
    const reported = greenlet === undefined ? error : new GreenletFailure(greenlet, error);
    this.loop.reportError(reported, this.#phase);
  };

  /** @internal Run the queue (the `callSoon` callback, pending phase). */
  drain(): void {
    this.#drainCall = undefined;
    if (this.#destroyed) return;
    this.#draining = true;
    this.#phase = 'pending';
    const deadline = performance.now() + this.#switchInterval;
    let untilClock = CLOCK_EVERY;
    try {
      for (;;) {
        const batch = this.#queue;
        const length = batch.length;
        if (length === 0) return;
        // Entries queued from here on go to the other array and run after this batch.
        this.#queue = this.#spare;
        for (let i = 0; i < length && !this.#destroyed; i += 4) {
          const fn = batch[i] as Entry;
          try {
            fn(batch[i + 1], batch[i + 2], batch[i + 3]);
          } catch (error) {
            this.reportError(error, undefined);
          }
          if (--untilClock === 0) {
            untilClock = CLOCK_EVERY;
            if (performance.now() >= deadline && !this.#destroyed) {
              // Out of time: the rest waits for the next iteration, so the loop can poll.
              const rest = batch.slice(i + 4);
              this.#queue = rest.concat(this.#queue);
              batch.length = 0;
              this.#spare = batch;
              if (this.#queue.length > 0) this.#drainCall = this.loop.callSoon(drainHub, this);
              return;
            }
          }
        }
        batch.length = 0;
        this.#spare = batch;
        if (this.#destroyed) return;
      }
    } finally {
      this.#draining = false;
    }
  }
}

function drainHub(hub: Hub): void {
  hub.drain();
}

function interruptEntry(greenlet: unknown, error: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.interrupt(g, error);
}

function stopLoop(greenlet: Greenlet): void {
  greenlet.hub.loop.stop();
}

function stackOf(error: unknown): string {
  return error instanceof Error && error.stack ? error.stack : String(error);
}

/**
 * The hub of `loop`, created on first use (one per loop, the loop passed in: there is no
 * module-level default). Without a loop, the hub of the running hub greenlet. A hub destroyed
 * with {@link Hub.destroy} is replaced by a new one on the next call.
 * @throws HubError `ERR_HUB_NO_CURRENT_HUB` without a loop outside every hub greenlet;
 *   InvalidArgumentError for a value that is not a loop
 * @example
 * ```ts
 * const hub = getHub(loop);          // in main code: the loop's hub
 * const same = getHub();             // inside one of its greenlets
 * ```
 */
export function getHub(loop?: EventLoop): Hub {
  if (loop === undefined) return currentHub('getHub()');
  return hubs.get(loop) ?? new Hub(loop);
}
