import type { Capabilities } from './capabilities.js';
import type { HttpHandler, HttpServer, HttpServerOptions } from './http.js';
import type { EventLoopError } from './errors.js';
import type { ConnectOptions, ListenOptions, TcpServer, TcpStream } from './stream.js';

/**
 * How far {@link EventLoop.run} goes before it returns (libuv's `uv_run_mode`).
 *
 * - `'default'`: iterate until no referenced handle, request or pending callback is left, or
 *   `stop()`.
 * - `'once'`: one iteration. Its poll may block for I/O or for the next due timer, unless work
 *   was pending or an idle hook was active when the iteration began; due timers run at its end,
 *   so a loop whose only handle is a timer still makes progress (libuv's `UV_RUN_ONCE`).
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
  /**
   * Drop the callback if it has not run yet; a no-op afterwards. A cancelled callback no longer
   * keeps the loop alive and no longer keeps the poll from blocking.
   */
  cancel(): void;
}

/**
 * Readiness flags of an {@link IoWatcher}, combined with `|` (libev's `EV_READ`/`EV_WRITE`,
 * libuv's `UV_READABLE`/`UV_WRITABLE`).
 */
export const IoEvents = Object.freeze({
  /** The fd has data to read, a connection to accept, or an end of file or error to report. */
  READABLE: 1,
  /** The fd can take a write, or has an error to report. */
  WRITABLE: 2,
} as const);

/**
 * A watcher of one file descriptor's readiness (libev's `ev_io`, libuv's `uv_poll_t`, gevent's
 * `loop.io`). It is level-triggered: while the fd stays ready and the watcher is active, the
 * callback runs again in every poll phase, so read until `EAGAIN` or stop the watcher.
 *
 * The watcher never reads, writes or closes the fd: the fd stays the caller's, and must stay
 * open until the watcher is stopped or closed (close the watcher first, then the fd). One
 * watcher per fd (on the Node-hosted backends: per fd and thread, since every loop of a thread
 * shares Node's libuv loop, which also makes the fd non-blocking). An fd that the host already
 * watches (a socket Node owns, say) is refused with `ERR_SOCKET` (`EEXIST`).
 */
export interface IoWatcher extends Handle {
  /** The watched file descriptor. */
  readonly fd: number;
  /** The events the watcher is started for (an {@link IoEvents} mask), 0 when inactive. */
  readonly events: number;
  /**
   * Watch for `events` (a non-empty {@link IoEvents} mask). On an active watcher this changes
   * the watched events.
   * @throws EventLoopError `ERR_INVALID_ARG` for an empty or unknown mask; `ERR_HANDLE_CLOSED`
   * after `close()`; `ERR_SOCKET` when the fd cannot be watched (a regular file, a closed fd).
   */
  start(events: number): this;
  /** Stop watching; safe from inside the callback (no further callback runs). Idempotent. */
  stop(): this;
}

/**
 * How the callback form of an asynchronous operation is told that it finished: `error` is set
 * when it failed, and otherwise `result` is (Node's `(err, value)` convention).
 */
export type Completion<T> = (error: EventLoopError | undefined, result: T | undefined) => void;

/**
 * The event loop contract that every backend implements.
 *
 * ## One run, in order (libuv ≥ 1.45's `uv_run`)
 * 0. **Start**: in `'default'` mode, time is updated and due timers run once before the first
 *    iteration (libuv keeps this for compatibility); `'once'` and `'nowait'` skip it.
 *
 * Then each iteration:
 * 1. **Pending**: callbacks queued with `callSoon` before this phase began run in FIFO order.
 *    Callbacks queued while it runs wait for the next iteration, so I/O is never starved.
 * 2. **Idle**: active idle hooks run.
 * 3. **Prepare**: active prepare hooks run.
 * 4. **Poll**: the loop waits for I/O, then reads the clock once and runs the I/O callbacks of
 *    what arrived: stream data, end and drain, accepted connections, HTTP requests and body
 *    chunks, fd watchers, and the callback forms of `listen`, `connect` and `serveHttp`. It does
 *    not wait when the mode is `'nowait'`, after `stop()`, while callbacks are pending, an idle
 *    hook is active or a close is pending, or (in `'once'` mode) when callbacks were pending or
 *    an idle hook was active as the iteration began. Otherwise it waits until the next timer is
 *    due, or indefinitely when no timer is active. `now()` is refreshed when the wait ends,
 *    whether by I/O or by timeout.
 * 5. **Check**: active check hooks run.
 * 6. **Close**: the close callbacks of handles closed so far run, and so do the `close` events
 *    of streams.
 * 7. **Timers**: time is updated, then every timer due runs, by due time then start order, each
 *    at most once. A timer started (or restarted) during this phase runs no earlier than the
 *    next iteration, even with timeout 0.
 * 8. **End**: `run` returns after `'once'` and `'nowait'`, after `stop()`, or once the loop is no
 *    longer alive; otherwise the next iteration starts at step 1.
 *
 * ## Rules every backend keeps
 * - No callback ever runs inside the call that scheduled it or inside any other call of user
 *   code: an error found during `write()` (`EPIPE`, say) is delivered later, in a loop phase.
 * - No callback runs outside `run()`: I/O that arrives while the loop is not running is
 *   delivered in the poll phase of the next `run()`.
 * - Waiting never blocks the JavaScript thread: while `run()` waits, promises, Node timers and
 *   other Node I/O go on, and `callSoon` from any of them (or from a native completion on the
 *   main thread) ends the wait.
 * - An idle loop uses no CPU: it waits in the kernel, never in a spin.
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

  /** The cached loop time in ms (monotonic, fractional); see the iteration steps for when it is refreshed. */
  now(): number;
  /** Re-read the clock into the cached `now()` (libuv's `uv_update_time`). */
  updateTime(): void;

  /**
   * Queue `callback(arg)` for the pending phase of the next iteration that starts after this
   * call. Passing a method and its argument avoids a closure on hot paths. It may be called from
   * any code on the main thread (a loop callback, a microtask, a Node callback) and ends a
   * waiting poll.
   * @throws EventLoopError `ERR_LOOP_CLOSED`, `ERR_INVALID_ARG`
   */
  callSoon<A = undefined>(callback: (arg: A) => void, arg?: A): PendingCallback;
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
   * Create an inactive watcher of `fd`; once started, `callback(watcher, events)` runs in the
   * poll phase with the {@link IoEvents} that are ready.
   * @throws UnsupportedError when `capabilities.io` is false; EventLoopError `ERR_INVALID_ARG` for
   * a bad fd or an fd this loop already watches, `ERR_LOOP_CLOSED`.
   */
  io(fd: number, callback: (watcher: IoWatcher, events: number) => void): IoWatcher;

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
  /**
   * `true` while an active referenced handle, an operation in flight (a `listen`, `connect` or
   * `serveHttp` not yet completed), an uncancelled pending callback or a pending close exists.
   */
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
   * Pass `error` to the error handler as if a callback of `phase` had thrown it. For layers on
   * top (a hub) that run user code of their own and must report its errors the loop's way; a
   * throwing handler is printed, never rethrown.
   */
  reportError(error: unknown, phase: Phase): void;

  /**
   * Listen for TCP connections; `onConnection` runs in the poll phase for each accepted stream.
   * The operation keeps the loop alive until it completes.
   *
   * Callback form: `callback` runs in the poll phase with the listening server, or with an
   * `ERR_SOCKET` error (`EADDRINUSE`, ...) or an {@link UnsupportedError} (`reusePort` where the
   * backend lacks it). Bad options throw `ERR_INVALID_ARG` synchronously.
   * @throws EventLoopError `ERR_INVALID_ARG`, `ERR_LOOP_CLOSED`
   */
  listen(options: ListenOptions, onConnection: (stream: TcpStream) => void, callback: Completion<TcpServer>): void;
  /**
   * Promise form of {@link EventLoop.listen}: resolves as soon as the socket listens, whether or
   * not the loop is running; every failure, bad options included, is a rejection.
   */
  listen(options: ListenOptions, onConnection: (stream: TcpStream) => void): Promise<TcpServer>;
  /**
   * Open a TCP connection. The operation keeps the loop alive until it completes.
   *
   * Callback form: `callback` runs in the poll phase with the connected stream, or with an
   * `ERR_SOCKET` error (`ECONNREFUSED`, ...). Bad options throw `ERR_INVALID_ARG` synchronously.
   * @throws EventLoopError `ERR_INVALID_ARG`, `ERR_LOOP_CLOSED`
   */
  connect(options: ConnectOptions, callback: Completion<TcpStream>): void;
  /**
   * Promise form of {@link EventLoop.connect}: resolves as soon as the connection is made,
   * whether or not the loop is running; every failure is a rejection.
   */
  connect(options: ConnectOptions): Promise<TcpStream>;
  /**
   * Serve HTTP/1.1: bind like {@link EventLoop.listen}, then call `handler` in the poll phase for
   * each request, with the limits and timeouts of `options`. A limit the backend cannot set (see
   * `capabilities.httpLimits`) fails the operation with an {@link UnsupportedError} naming it.
   *
   * Callback form: as for `listen`.
   * @throws EventLoopError `ERR_INVALID_ARG`, `ERR_LOOP_CLOSED`
   */
  serveHttp(options: HttpServerOptions, handler: HttpHandler, callback: Completion<HttpServer>): void;
  /** Promise form of {@link EventLoop.serveHttp}, with the promise rules of `listen`. */
  serveHttp(options: HttpServerOptions, handler: HttpHandler): Promise<HttpServer>;
}
