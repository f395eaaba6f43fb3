import type { Koffi } from './libc.js';

/** libuv's `UV_POLL` handle type (uv.h). */
const UV_POLL = 8;
/** libuv's `UV_READABLE` and `UV_WRITABLE` (uv.h). */
export const UV_READABLE = 1;
export const UV_WRITABLE = 2;

interface UvBindings {
  readonly koffi: Koffi;
  readonly pollCallbackType: ReturnType<Koffi['pointer']>;
  readonly handleSize: number;
  /** The libuv loop Node runs on this thread (a worker's own, on a worker). */
  readonly uvLoop: unknown;
  pollInit(loop: bigint, handle: bigint, fd: number): number;
  pollStart(handle: bigint, events: number, callback: bigint): number;
  pollStop(handle: bigint): number;
  close(handle: bigint, callback: bigint): void;
  strerror(code: number): string;
  /** One close callback for every handle: frees the handle's memory once libuv is done with it. */
  readonly closeCallback: bigint;
  /** Handles whose close is in flight, by address, with what to release then. */
  readonly closing: Map<bigint, bigint>;
}

let uv: UvBindings | undefined;

/** Bind the libuv functions Node exports (once per process: koffi's type names are process-wide). */
function bindUv(koffi: Koffi): UvBindings {
  if (uv) return uv;
  const node = koffi.load(null);
  const f = (definition: string): ((...args: never[]) => never) => node.func(definition) as unknown as (...args: never[]) => never;
  const pollCallbackType = koffi.pointer(koffi.proto('void loop_epoll_uv_poll_cb(void *handle, int status, int events)'));
  const closeCallbackType = koffi.pointer(koffi.proto('void loop_epoll_uv_close_cb(void *handle)'));
  const handleSize = Number(f('size_t uv_handle_size(int type)')(UV_POLL as never));
  const typeName = f('const char *uv_handle_type_name(int type)')(UV_POLL as never) as string;
  // uv.h's handle type numbering is ABI: if it ever moved, we would allocate the wrong size.
  if (typeName !== 'poll') throw new Error(`libuv's handle type ${UV_POLL} is '${typeName}', not 'poll': unsupported libuv`);
  // napi_get_uv_event_loop, not uv_default_loop: on a worker thread the default loop is the main
  // thread's, and a callback from it would run on the wrong thread.
  const out: unknown[] = [null];
  const status = f('int napi_get_uv_event_loop(void *env, _Out_ void **loop)')(koffi.node.env as never, out as never) as number;
  if (status !== 0 || !out[0]) throw new Error(`napi_get_uv_event_loop failed with status ${status}`);
  const closing = new Map<bigint, bigint>();
  const bindings: UvBindings = {
    koffi,
    pollCallbackType,
    handleSize,
    uvLoop: out[0],
    pollInit: f('int uv_poll_init(void *loop, void *handle, int fd)'),
    pollStart: f('int uv_poll_start(void *handle, int events, void *callback)'),
    pollStop: f('int uv_poll_stop(void *handle)'),
    close: f('void uv_close(void *handle, void *callback)'),
    strerror: f('const char *uv_strerror(int code)'),
    closing,
    closeCallback: koffi.register((handle: bigint) => {
      const registered = closing.get(handle);
      closing.delete(handle);
      koffi.free(handle);
      if (registered !== undefined) koffi.unregister(registered);
    }, closeCallbackType),
  };
  uv = bindings;
  return bindings;
}

/**
 * A `uv_poll_t` on Node's own libuv loop watching one fd: the backend's epoll fd (readable whenever
 * one of its watched fds has an event ready), or a socket whose non-blocking connect is in flight
 * (writable once it is done, whether the loop runs or not). `onReady` runs on the main thread from
 * Node's poll phase, as a Node I/O callback does (microtasks drain after it).
 *
 * While started the handle is referenced, so Node does not exit while a loop waits for I/O; the
 * loop stops it whenever it is not running, so a loop that is not running costs nothing and keeps
 * nothing alive.
 */
export class HostWatch {
  private readonly uv: UvBindings;
  private handle: bigint | undefined;
  private readonly callback: bigint;
  private started = false;

  /**
   * @throws Error when libuv's symbols cannot be reached or `uv_poll_init` fails (an fd libuv
   * cannot poll).
   */
  constructor(
    koffi: Koffi,
    fd: number,
    private readonly events: number,
    onReady: () => void,
  ) {
    this.uv = bindUv(koffi);
    const handle = koffi.alloc('uint8_t', this.uv.handleSize) as bigint;
    const status = this.uv.pollInit(this.uv.uvLoop as bigint, handle, fd);
    if (status !== 0) {
      koffi.free(handle);
      throw new Error(`uv_poll_init on fd ${fd} failed: ${this.uv.strerror(status)}`);
    }
    this.handle = handle;
    // A status < 0 (the fd failed) still calls onReady: the owner then finds the error itself
    // (epoll_wait for the epoll fd, SO_ERROR for a connecting socket).
    this.callback = koffi.register(onReady, this.uv.pollCallbackType);
  }

  /** Start watching (idempotent). */
  start(): void {
    if (this.started || this.handle === undefined) return;
    this.started = true;
    this.uv.pollStart(this.handle, this.events, this.callback);
  }

  /** Stop watching (idempotent): no callback runs after this. */
  stop(): void {
    if (!this.started || this.handle === undefined) return;
    this.started = false;
    this.uv.pollStop(this.handle);
  }

  /** Stop for good; the handle's memory and the callback are released once libuv has closed it. */
  close(): void {
    if (this.handle === undefined) return;
    this.stop();
    this.uv.closing.set(this.handle, this.callback);
    this.uv.close(this.handle, this.uv.closeCallback);
    this.handle = undefined;
  }
}
