/**
 * `loop.io()` for kit loops hosted by Node: one libuv `uv_poll_t` per watcher in the libuv loop
 * Node runs on this thread, reached through the koffi module the backend passes in (core has no
 * runtime dependency on koffi). Design and limits:
 * - Events go through `loop.deliver` to the kit's poll phase. An event that arrives while the kit
 *   loop is not polling parks the uv_poll (stops it) until its delivery: level-triggered libuv
 *   would otherwise report the unread fd on every Node iteration, a busy spin.
 * - An fd error (uv status < 0) is delivered as every watched event, so the read or write meets it.
 * - uv handles are unreferenced (the kit's HostPoller keeps Node alive), freed in their close
 *   callback; the two koffi callbacks are unregistered once no uv handle is left.
 * - One watcher per fd per thread; an fd Node itself watches is refused (EEXIST). The fd must stay
 *   open while started (libuv aborts on an fd epoll refuses): each start checks the fd's identity,
 *   which catches a close before `start()`, not one right after. The fd is made non-blocking.
 */
import { fstatSync, type BigIntStats } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { EventLoopError, InvalidArgumentError, SocketError } from '../errors.js';
import type { IoWatcher } from '../loop.js';
import { HandleBase } from './handle-base.js';
import type { LoopBase } from './loop-base.js';

/**
 * The part of koffi's API that {@link UvPoll} calls. Pass koffi's module itself
 * (`import koffi from 'koffi'` or `require('koffi')`): core only describes its shape.
 */
export interface KoffiModule {
  /** `koffi.load(null)`: the symbols of the running process, Node's (and so libuv's) included. */
  load(path: null): { func(definition: string): (...args: any[]) => any };
  /** Declare a callback type. */
  proto(result: string, parameters: string[]): unknown;
  /** A pointer type to `type`. */
  pointer(type: unknown): unknown;
  /** Make a JS function callable from C at any time (until `unregister`). */
  register(callback: (...args: any[]) => unknown, type: unknown): unknown;
  /** Release a registered callback's slot. */
  unregister(callback: any): void;
  /** Allocate native memory that never moves. */
  alloc(type: string, length: number): unknown;
  /** Free memory from `alloc`. */
  free(pointer: any): void;
  /** The address of a pointer value. */
  address(pointer: any): bigint | number;
  /** `koffi.node.env`: the `napi_env` of the thread koffi was loaded on. */
  readonly node: { readonly env: unknown };
}

// libuv's uv_handle_type: UV_UNKNOWN_HANDLE = 0, then UV_HANDLE_TYPE_MAP in order (ASYNC, CHECK,
// FS_EVENT, FS_POLL, HANDLE, IDLE, NAMED_PIPE, POLL): UV_POLL is 8. bind() checks it by name.
const UV_POLL = 8;
// uv_poll_event: UV_READABLE = 1, UV_WRITABLE = 2, the same bits as IoEvents.
const ALL_EVENTS = 3;

/** libuv's functions, as koffi binds them. Pointers are bigints, the poll callback's handle a number. */
interface UvFunctions {
  readonly uvLoop: unknown;
  readonly handleSize: number;
  readonly pollInit: (loop: unknown, handle: unknown, fd: number) => number;
  readonly pollStart: (handle: unknown, events: number, callback: unknown) => number;
  readonly pollStop: (handle: unknown) => number;
  readonly close: (handle: unknown, callback: unknown) => void;
  readonly unref: (handle: unknown) => void;
}

/** A SocketError for a libuv status (a negative errno), with the errno name in `errno`. */
function uvError(status: number, message: string, syscall: string): SocketError {
  const code = getSystemErrorName(status);
  const cause = Object.assign(new Error(`${syscall}: ${code}`), { code, errno: status, syscall });
  return new SocketError(message, cause);
}

/**
 * Check an `IoWatcher.start()` mask, for every backend's watcher: a non-number throws
 * `InvalidArgumentError`, a number that is not a non-empty mask of `IoEvents.READABLE` and
 * `IoEvents.WRITABLE` throws `EventLoopError` `ERR_INVALID_ARG`.
 * @returns the mask
 */
export function checkIoEvents(events: unknown): number {
  if (typeof events !== 'number') throw new InvalidArgumentError(`events must be an IoEvents mask, got ${events === null ? 'null' : typeof events}`);
  if (!Number.isInteger(events) || events <= 0 || (events & ~ALL_EVENTS) !== 0) {
    throw new EventLoopError('ERR_INVALID_ARG', `events must be a non-empty IoEvents mask (READABLE | WRITABLE), got ${String(events)}`);
  }
  return events;
}

const bindings = new WeakMap<object, UvPoll>();

/**
 * libuv's `uv_poll_t` in the libuv loop Node runs on this thread (main thread or worker), for
 * backends whose kit loop is hosted by Node (its poller is a {@link HostPoller}). Create one per
 * koffi module with {@link UvPoll.bind}; {@link UvPoll.watch} makes the watchers.
 *
 * @example
 * ```ts
 * // In a backend: load koffi lazily, so a platform without it gets capabilities.io === false.
 * const uvPoll = (() => { try { return UvPoll.bind(createRequire(import.meta.url)('koffi')); } catch { return undefined; } })();
 * class MyLoop extends LoopBase {
 *   protected override createIoWatcher(fd: number, cb: (w: IoWatcher, events: number) => void): IoWatcher {
 *     return uvPoll!.watch(this, fd, cb);
 *   }
 * }
 * ```
 */
export class UvPoll {
  /** Open watchers by fd: one per fd on this thread. */
  private readonly watchedFds = new Map<number, UvPollWatcher>();
  /** Initialized uv handles by address (until their close callback): what the callbacks look up. */
  private readonly handles = new Map<number, UvPollWatcher>();
  private pollCallback: unknown;
  private closeCallback: unknown;
  private unregisterQueued = false;
  private events = 0;

  private constructor(
    private readonly koffi: KoffiModule,
    private readonly uv: UvFunctions,
    private readonly pollType: unknown,
    private readonly closeType: unknown,
  ) {}

  /**
   * Bind libuv's poll functions through `koffi` (cached per koffi module, so every caller on a
   * thread shares one fd registry).
   * @throws EventLoopError `ERR_UNSUPPORTED` when a symbol is missing or the handle type does not
   * check out (Node built without exported libuv symbols, an unknown libuv).
   */
  static bind(koffi: KoffiModule): UvPoll {
    const cached = bindings.get(koffi);
    if (cached) return cached;
    let binding: UvPoll;
    try {
      const lib = koffi.load(null);
      const getLoop = lib.func('int napi_get_uv_event_loop(void *env, _Out_ void **loop)');
      const typeName = lib.func('const char *uv_handle_type_name(int type)');
      const handleSize = lib.func('size_t uv_handle_size(int type)');
      const out: unknown[] = [null];
      const status = getLoop(koffi.node.env, out) as number;
      const size = Number(handleSize(UV_POLL));
      if (status !== 0 || !out[0]) throw new Error(`napi_get_uv_event_loop failed with status ${status}`);
      if (typeName(UV_POLL) !== 'poll') throw new Error(`handle type ${UV_POLL} is '${String(typeName(UV_POLL))}', not 'poll'`);
      if (!(size >= 16 && size <= 4096)) throw new Error(`implausible uv_poll_t size ${size}`);
      // The callbacks' handle is declared uintptr_t (same ABI as a pointer) so it arrives as a
      // number: a cheap Map key. Callback parameters of the functions are plain void pointers.
      binding = new UvPoll(
        koffi,
        {
          uvLoop: out[0],
          handleSize: size,
          pollInit: lib.func('int uv_poll_init(void *loop, void *handle, int fd)'),
          pollStart: lib.func('int uv_poll_start(void *handle, int events, void *cb)'),
          pollStop: lib.func('int uv_poll_stop(void *handle)'),
          close: lib.func('void uv_close(void *handle, void *cb)'),
          unref: lib.func('void uv_unref(void *handle)'),
        },
        koffi.pointer(koffi.proto('void', ['uintptr_t', 'int', 'int'])),
        koffi.pointer(koffi.proto('void', ['uintptr_t'])),
      );
    } catch (error) {
      throw new EventLoopError('ERR_UNSUPPORTED', `libuv's uv_poll is not reachable through koffi: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    bindings.set(koffi, binding);
    return binding;
  }

  /**
   * Create an inactive watcher of `fd` for `loop` (a kit loop hosted by Node on this thread);
   * `callback(watcher, events)` runs in the loop's poll phase. Nothing native is allocated before
   * the first `start()`, which is where an fd that cannot be polled is refused. Close every
   * watcher: a stopped one still holds its uv handle and its fd's slot.
   * @throws EventLoopError `ERR_INVALID_ARG` when an open watcher of any loop on this thread
   * already has `fd` (libuv cannot poll one fd twice).
   */
  watch(loop: LoopBase, fd: number, callback: (watcher: IoWatcher, events: number) => void): IoWatcher {
    if (this.watchedFds.has(fd)) {
      throw new EventLoopError('ERR_INVALID_ARG', `fd ${fd} is already watched by an open io watcher on this thread; close that watcher first`);
    }
    const watcher = new UvPollWatcher(this, loop, fd, callback);
    this.watchedFds.set(fd, watcher);
    return watcher;
  }

  /** Counters for tests and diagnostics: live uv handles, fds held, whether the callbacks are registered, uv events seen. */
  stats(): { handles: number; watchedFds: number; callbacksRegistered: boolean; uvEvents: number } {
    return { handles: this.handles.size, watchedFds: this.watchedFds.size, callbacksRegistered: this.pollCallback !== undefined, uvEvents: this.events };
  }

  // ---- services for UvPollWatcher ----

  /** Allocate and initialize the watcher's uv handle; returns it. @throws SocketError @internal */
  init(watcher: UvPollWatcher): { pointer: unknown; address: number } {
    if (this.pollCallback === undefined) {
      this.pollCallback = this.koffi.register(this.onPoll, this.pollType);
      this.closeCallback = this.koffi.register(this.onClose, this.closeType);
    }
    const pointer = this.koffi.alloc('uint8', this.uv.handleSize);
    const status = this.uv.pollInit(this.uv.uvLoop, pointer, watcher.fd);
    if (status < 0) {
      this.koffi.free(pointer);
      this.unregisterWhenIdle();
      const why = getSystemErrorName(status) === 'EEXIST' ? ' (Node itself watches it: give a watcher only fds nothing else polls)' : '';
      throw uvError(status, `cannot watch fd ${watcher.fd}${why}`, 'uv_poll_init');
    }
    // Never keep Node alive for the watcher: the kit loop's poller does that while it waits.
    this.uv.unref(pointer);
    const address = Number(this.koffi.address(pointer));
    this.handles.set(address, watcher);
    return { pointer, address };
  }

  /** `uv_poll_start` with `events`. @throws SocketError @internal */
  start(watcher: UvPollWatcher, pointer: unknown, events: number): void {
    const status = this.uv.pollStart(pointer, events, this.pollCallback);
    if (status < 0) throw uvError(status, `cannot watch fd ${watcher.fd}`, 'uv_poll_start');
  }

  /** `uv_poll_stop`. @internal */
  stop(pointer: unknown): void {
    this.uv.pollStop(pointer);
  }

  /** The watcher is closing: its fd is free for a new watcher; its uv handle (if any) is closed. @internal */
  release(watcher: UvPollWatcher, pointer: unknown): void {
    if (this.watchedFds.get(watcher.fd) === watcher) this.watchedFds.delete(watcher.fd);
    if (pointer !== undefined) this.uv.close(pointer, this.closeCallback);
  }

  // libuv's poll callback, on this thread, in Node's poll phase. Hot path: one Map lookup, no allocation.
  private readonly onPoll = (address: number, status: number, events: number): void => {
    this.events++;
    const watcher = this.handles.get(address);
    if (watcher !== undefined) watcher.uvEvent(status, events);
  };

  // libuv's close callback, in Node's close phase: libuv is done with the memory.
  private readonly onClose = (address: number): void => {
    const watcher = this.handles.get(address);
    if (watcher === undefined) return;
    this.handles.delete(address);
    this.koffi.free(watcher.releasePointer());
    this.unregisterWhenIdle();
    watcher.uvClosed();
  };

  /**
   * Unregister the callbacks once no uv handle can call them. Deferred to an immediate: the close
   * callback that drops the last handle is itself still running inside koffi's trampoline.
   */
  private unregisterWhenIdle(): void {
    if (this.handles.size > 0 || this.unregisterQueued || this.pollCallback === undefined) return;
    this.unregisterQueued = true;
    setImmediate(this.unregisterIfIdle).unref();
  }

  private readonly unregisterIfIdle = (): void => {
    this.unregisterQueued = false;
    if (this.handles.size > 0 || this.pollCallback === undefined) return;
    this.koffi.unregister(this.pollCallback);
    this.koffi.unregister(this.closeCallback);
    this.pollCallback = undefined;
    this.closeCallback = undefined;
  };
}

/** An {@link IoWatcher} on a `uv_poll_t`; made by {@link UvPoll.watch}. */
class UvPollWatcher extends HandleBase implements IoWatcher {
  readonly kind = 'io';
  private watched = 0;
  /** Events waiting for their delivery in the poll phase. */
  private queued = 0;
  /** A `dispatch` entry sits in the loop's I/O queue (at most one per watcher). */
  private deliveryQueued = false;
  /** Active, but its uv_poll is stopped until the queued event is delivered (or libuv stopped it on an error). */
  private parked = false;
  private pointer: unknown;
  /** The fd's file at the first start, so a later start can tell a closed (and reused) fd. */
  private identity: BigIntStats | undefined;

  constructor(
    private readonly uv: UvPoll,
    loop: LoopBase,
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
    this.loop.assertNotClosed();
    checkIoEvents(events);
    if (this.isActive()) {
      if (events === this.watched) return this;
      // A parked watcher restarts with the new mask once its queued event is delivered.
      if (!this.parked) this.startPoll(events);
      this.watched = events;
      this.queued &= events;
      return this;
    }
    if (this.pointer === undefined) {
      const identity = this.checkFd();
      if (identity.isFile() || identity.isDirectory()) {
        // epoll refuses these with EPERM, kqueue would take them: refuse them alike everywhere.
        const cause = Object.assign(new Error('a regular file or directory is always ready: it cannot be polled'), { code: 'EPERM' });
        throw new SocketError(`cannot watch fd ${this.fd}`, cause);
      }
      this.identity = identity;
      const { pointer } = this.uv.init(this);
      this.pointer = pointer;
      this.uv.start(this, pointer, events);
    } else {
      this.startPoll(events);
    }
    this.watched = events;
    this.activate();
    return this;
  }

  stop(): this {
    if (!this.isActive()) return this;
    if (!this.parked) this.uv.stop(this.pointer);
    this.parked = false;
    this.watched = 0;
    this.queued = 0; // a stopped watcher has no pending event (libev's rule), even after a restart
    this.deactivate();
    return this;
  }

  protected override beginClose(): void {
    this.deactivate();
    this.watched = 0;
    this.queued = 0;
    this.parked = false;
    // uv_close stops the poll itself; the close callback (Node's close phase) frees the memory
    // and only then queues ours for the kit's close phase.
    this.uv.release(this, this.pointer);
    if (this.pointer === undefined) super.beginClose();
  }

  /** libuv reported `events` (or an error, `status` < 0) in Node's poll phase. */
  uvEvent(status: number, events: number): void {
    if (!this.isActive()) return;
    let ready = events & this.watched;
    if (status < 0) {
      // POLLERR: libuv stopped the poll and reports no events. Hand the user every watched event
      // so that its read or write meets the errno; the poll restarts after the delivery.
      ready = this.watched;
      this.parked = true;
    }
    if (ready === 0) return;
    this.queued |= ready;
    if (!this.deliveryQueued) {
      this.deliveryQueued = true;
      this.loop.deliver(this.dispatch, this, undefined);
    }
    // Not polling: nobody reads the fd before the next run, and level-triggered libuv would wake
    // Node for it on every iteration. Stop the poll until the event is delivered.
    if (!this.parked && !this.loop.isPolling()) {
      this.uv.stop(this.pointer);
      this.parked = true;
    }
  }

  /** In the kit's poll phase: run the callback with what is queued, then unpark. */
  private dispatch(): void {
    this.deliveryQueued = false;
    const events = this.queued;
    this.queued = 0;
    try {
      if (events !== 0 && this.isActive()) this.callback(this, events);
    } finally {
      // After the callback, so that a callback that stops the watcher (and closes the fd) leaves
      // no restart behind.
      if (this.parked && this.isActive()) this.unpark();
    }
  }

  private unpark(): void {
    this.parked = false;
    try {
      this.startPoll(this.watched);
    } catch (error) {
      // The fd was closed under a started watcher: restarting would make libuv abort the process.
      this.watched = 0;
      this.queued = 0;
      this.deactivate();
      this.loop.report(error, 'poll');
    }
  }

  /** (Re)start the uv_poll, after checking that the fd is still the file it was. @throws SocketError */
  private startPoll(events: number): void {
    const now = this.checkFd();
    const was = this.identity as BigIntStats;
    if (now.dev !== was.dev || now.ino !== was.ino) {
      const cause = Object.assign(new Error('the fd names another file than at its first start'), { code: 'EBADF' });
      throw new SocketError(`fd ${this.fd} was closed since the watcher first started (its number now names another file)`, cause);
    }
    this.uv.start(this, this.pointer, events);
  }

  private checkFd(): BigIntStats {
    try {
      return fstatSync(this.fd, { bigint: true });
    } catch (error) {
      throw new SocketError(`cannot watch fd ${this.fd}`, error);
    }
  }

  /** The close callback has run: hand the memory over to be freed. */
  releasePointer(): unknown {
    const pointer = this.pointer;
    this.pointer = undefined;
    return pointer;
  }

  /** libuv closed the handle: queue the kit's close callbacks for the close phase. */
  uvClosed(): void {
    this.closedByHost();
  }
}
