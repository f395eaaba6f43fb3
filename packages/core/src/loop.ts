import type { Capabilities } from './capabilities.js';
import type { HttpHandler, HttpServer, HttpServerOptions } from './http.js';
import type { ConnectOptions, ListenOptions, TcpServer, TcpStream } from './stream.js';

/**
 * How far {@link EventLoop.run} goes before it returns.
 *
 * - `'default'`: iterate until no referenced handle and no pending callback is left, or `stop()`.
 * - `'once'`: one iteration; its poll blocks for I/O (or the next due timer) unless work is pending.
 *   After the poll it runs due timers once more, so a loop whose only handle is a timer still
 *   makes progress (libuv's `UV_RUN_ONCE` guarantee).
 * - `'nowait'`: one iteration whose poll does not block.
 */
export type RunMode = 'default' | 'once' | 'nowait';

/** The loop phase a callback, or a reported error, belongs to. */
export type Phase = 'timer' | 'pending' | 'idle' | 'prepare' | 'poll' | 'check' | 'close';

/**
 * Receives every error thrown by a user callback. It runs synchronously, right where the
 * callback threw; the loop then carries on with the next callback.
 */
export type ErrorHandler = (error: unknown, phase: Phase) => void;

/**
 * The state every handle shares (libev's watcher model, libuv's handle model).
 *
 * A handle is created inactive. `start()` makes it active, `stop()` inactive; starting an
 * active handle and stopping an inactive one do nothing (timers are the one exception: see
 * {@link Timer.start}). An active, referenced handle keeps {@link EventLoop.run} going.
 * `close()` stops the handle for good; its close callback runs in the close phase.
 */
export interface Handle {
  /** The loop this handle belongs to. */
  readonly loop: EventLoop;
  /** `true` while the handle is started (or, for streams and servers, open). */
  isActive(): boolean;
  /** `true` once `close()` was called. */
  isClosing(): boolean;
  /** Let this handle keep the loop alive while active (the default). Idempotent. */
  ref(): this;
  /** Stop this handle from keeping the loop alive on its own. Idempotent. */
  unref(): this;
  /** `true` unless `unref()` was called last. */
  hasRef(): boolean;
  /**
   * Stop the handle for good and release what it holds. `onClose` runs in the close phase of
   * the current (or next) iteration. Closing twice is a no-op (the second `onClose` is ignored).
   */
  close(onClose?: () => void): void;
}

/**
 * A one-shot or repeating timer (libuv's `uv_timer_t`).
 *
 * Timers that are due run in the timer phase, ordered by due time and then by the order in
 * which they were started. Due times are computed from the loop's cached {@link EventLoop.now}.
 */
export interface Timer extends Handle {
  /**
   * Arm the timer to fire `timeout` ms after `loop.now()`, then every `repeat` ms if `repeat > 0`.
   * Starting an active timer restarts it with the new values. Any delay up to
   * `Number.MAX_SAFE_INTEGER` ms is honoured.
   * @throws EventLoopError `ERR_INVALID_ARG` for a negative, non-finite or too-large value;
   * `ERR_HANDLE_CLOSED` after `close()`.
   */
  start(timeout: number, repeat?: number): this;
  /** Disarm the timer; safe from inside its own callback. */
  stop(): this;
  /**
   * Restart a repeating timer with its repeat value as the timeout (libuv's `uv_timer_again`).
   * Does nothing when the repeat value is 0.
   */
  again(): this;
  /** The repeat interval in ms; setting it takes effect at the next (re)arm. */
  repeat: number;
  /** ms until the timer is due (0 if overdue), or `undefined` when inactive. */
  dueIn(): number | undefined;
}

/**
 * An idle, prepare or check hook: a callback that runs once per iteration in its phase while
 * the hook is active. An active idle hook makes the poll phase non-blocking.
 */
export interface PhaseHook extends Handle {
  /** Start running the callback once per iteration. Idempotent. */
  start(): this;
  /** Stop running the callback; safe from inside it. Idempotent. */
  stop(): this;
}

/** A callback queued with {@link EventLoop.callSoon}; `cancel()` removes it if it has not run. */
export interface PendingCallback {
  /** Drop the callback if it has not run yet; a no-op afterwards. */
  cancel(): void;
}

/**
 * The event loop contract that every backend implements.
 *
 * ## One iteration, in order
 * 1. **Update time**: `now()` is read from the monotonic clock once and cached.
 * 2. **Timers**: every timer due at `now()` runs, by due time then start order. A timer started
 *    (or restarted) during this phase runs no earlier than the next iteration, even with timeout 0.
 * 3. **Pending**: callbacks queued with `callSoon` before this phase began run in FIFO order.
 *    Callbacks queued while it runs wait for the next iteration, so I/O is never starved.
 * 4. **Idle**: active idle hooks run.
 * 5. **Prepare**: active prepare hooks run.
 * 6. **Poll**: the loop waits for I/O and runs I/O callbacks (connections, data, end, drain, close
 *    of streams, HTTP requests); `now()` is updated as each event arrives. It does not block when
 *    the mode is `'nowait'`, `stop()` was called, callbacks are pending or an idle hook is active;
 *    otherwise it blocks until the next timer is due, or indefinitely when no timer is active.
 * 7. **Check**: active check hooks run.
 * 8. **Close**: close callbacks of handles closed during the iteration run.
 * 9. **End**: in `'once'` mode, time is updated and due timers run once more. `run` returns
 *    after `'once'` and `'nowait'`, after `stop()`, or once the loop is no longer alive;
 *    otherwise the next iteration starts at step 1.
 *
 * No callback ever runs inside the call that scheduled it, and no callback runs outside
 * `run()`: I/O that arrives while the loop is not running is delivered in the poll phase of
 * the next `run()`.
 *
 * ## Errors
 * An exception thrown by any user callback is passed to the loop's {@link ErrorHandler} and the
 * loop goes on. The default handler prints the stack to stderr and emits the error on the
 * process's `uncaughtException` path when that has listeners; set your own with `setErrorHandler`.
 *
 * @example
 * ```ts
 * import { createLoop } from '@loop/core';
 * const loop = await createLoop();             // LOOP_BACKEND or 'libuv'
 * loop.timer(() => console.log('tick')).start(10);
 * loop.callSoon(() => console.log('soon'));    // prints 'soon' then 'tick'
 * await loop.run();
 * loop.close();
 * ```
 */
export interface EventLoop {
  /** The backend's name, such as `'libuv'`. */
  readonly backend: string;
  /** What this backend supports; anything marked `false` throws {@link UnsupportedError}. */
  readonly capabilities: Capabilities;

  /** The cached loop time in ms (monotonic, fractional), updated at the start of each iteration. */
  now(): number;
  /** Re-read the clock into the cached `now()` (libuv's `uv_update_time`). */
  updateTime(): void;

  /**
   * Queue `callback` for the pending phase of the next iteration that starts after this call.
   * @throws EventLoopError `ERR_LOOP_CLOSED`, `ERR_INVALID_ARG`
   */
  callSoon(callback: () => void): PendingCallback;
  /**
   * Create an inactive timer that runs `callback` in the timer phase once started.
   * @throws EventLoopError `ERR_LOOP_CLOSED`, `ERR_INVALID_ARG`
   */
  timer(callback: (timer: Timer) => void): Timer;
  /** Create an inactive idle hook. @throws UnsupportedError when `capabilities.idle` is false. */
  idle(callback: (hook: PhaseHook) => void): PhaseHook;
  /** Create an inactive prepare hook. @throws UnsupportedError when `capabilities.prepare` is false. */
  prepare(callback: (hook: PhaseHook) => void): PhaseHook;
  /** Create an inactive check hook. @throws UnsupportedError when `capabilities.check` is false. */
  check(callback: (hook: PhaseHook) => void): PhaseHook;

  /**
   * Run the loop in `mode` (default `'default'`). Resolves to `true` when the loop is still alive
   * (libuv's non-zero return), `false` otherwise. If `stop()` was called before, resolves at once
   * without iterating and clears the stop request.
   * @throws EventLoopError `ERR_LOOP_RUNNING` (synchronously) when already running;
   * `ERR_LOOP_CLOSED` after `close()`; `ERR_UNSUPPORTED` for a mode the backend lacks.
   */
  run(mode?: RunMode): Promise<boolean>;
  /** Make the running (or next) `run()` return after the current iteration. */
  stop(): void;
  /** `true` while an active referenced handle, a pending callback or a pending close exists. */
  alive(): boolean;
  /** `true` between the start and the end of `run()`. */
  isRunning(): boolean;
  /**
   * Release the loop. Further calls throw `ERR_LOOP_CLOSED`.
   * @throws EventLoopError `ERR_LOOP_BUSY` while handles are live (active watchers, open streams
   * or servers, pending closes), naming them; `ERR_LOOP_RUNNING` while running.
   */
  close(): void;
  /** Replace the error handler; returns the previous one. */
  setErrorHandler(handler: ErrorHandler): ErrorHandler;

  /**
   * Listen for TCP connections. `onConnection` runs in the poll phase for each accepted stream.
   * Resolves once the socket is bound and listening.
   * @throws EventLoopError `ERR_INVALID_ARG`; rejects with `ERR_SOCKET` (bind errors such as
   * `EADDRINUSE`) and with {@link UnsupportedError} for `reusePort` where the backend lacks it.
   */
  listen(options: ListenOptions, onConnection: (stream: TcpStream) => void): Promise<TcpServer>;
  /**
   * Open a TCP connection. Resolves with the connected stream.
   * @throws rejects with `ERR_SOCKET` (`ECONNREFUSED`, ...) or `ERR_INVALID_ARG`.
   */
  connect(options: ConnectOptions): Promise<TcpStream>;
  /**
   * Serve HTTP/1.1: bind like {@link listen}, then call `handler` in the poll phase for each
   * request, with the limits and timeouts of `options`.
   */
  serveHttp(options: HttpServerOptions, handler: HttpHandler): Promise<HttpServer>;
}
