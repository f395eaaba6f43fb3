import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

/** The koffi module (loaded lazily, so that importing this package never loads a native binary). */
export type Koffi = typeof import('koffi').default;

/**
 * The libc calls this backend makes, bound with koffi as synchronous calls. Every one returns
 * what libc returns (-1 on failure, with the error in {@link Libc.errno}); none of them throws for
 * a failed syscall. Buffers are passed by address, without copies.
 */
export interface Libc {
  readonly koffi: Koffi;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;
  epoll_wait(epfd: number, events: Uint8Array, maxEvents: number, timeout: number): number;
  /**
   * epoll_wait on a thread of Node's pool (koffi's async call); `done` runs on the main thread.
   * It parks a pool thread for as long as it blocks.
   */
  epoll_wait_async(epfd: number, events: Uint8Array, maxEvents: number, timeout: number, done: (error: unknown, count: number) => void): void;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, length: Uint8Array): number;
  bind(fd: number, address: Uint8Array, length: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, address: Uint8Array | null, length: Uint8Array | null, flags: number): number;
  connect(fd: number, address: Uint8Array, length: number): number;
  read(fd: number, buffer: Uint8Array, length: number): number;
  write(fd: number, buffer: Uint8Array, length: number): number;
  send(fd: number, buffer: Uint8Array, length: number, flags: number): number;
  writev(fd: number, iov: Uint8Array, count: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  getsockname(fd: number, address: Uint8Array, length: Uint8Array): number;
  getpeername(fd: number, address: Uint8Array, length: Uint8Array): number;
  timerfd_create(clock: number, flags: number): number;
  timerfd_settime(fd: number, flags: number, newValue: Uint8Array, oldValue: null): number;
  open(path: string, flags: number): number;
  eventfd(initial: number, flags: number): number;
  /** `fcntl(fd, F_GETFL)` and `fcntl(fd, F_SETFL, flags)` (fcntl is variadic, so koffi needs the type of the third argument). */
  getFileFlags(fd: number): number;
  setFileFlags(fd: number, flags: number): number;
  /** The calling thread's `errno`, as left by the last failed call. */
  errno(): number;
  /** The address of a buffer's first byte, for iovecs. */
  address(buffer: Uint8Array): bigint;
  /**
   * Layout of `struct epoll_event` on this architecture: 12 bytes with `data` at offset 4 on
   * x86_64 (the kernel declares it `__attribute__((packed))` there), 16 bytes with `data` at
   * offset 8 elsewhere.
   */
  readonly epollEventSize: number;
  readonly epollDataOffset: number;
}

const F_GETFL = 3;
const F_SETFL = 4;

let loaded: Libc | undefined;

/**
 * Bind libc once per process (koffi registers type names process-wide, and the bindings hold no
 * per-loop state). Throws when koffi or libc cannot be loaded.
 */
export function loadLibc(): Libc {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as Koffi;
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load('libc.so.6');
  } catch {
    lib = koffi.load(null); // musl and others: libc's symbols are global in the node process
  }
  // The layout is declared once with koffi's packing rules and checked here; test/libc.test.ts
  // checks it against the kernel with a real epoll round trip.
  const eventType =
    process.arch === 'x64' ? koffi.pack(null, { events: 'uint32_t', data: 'uint64_t' }) : koffi.struct(null, { events: 'uint32_t', data: 'uint64_t' });
  const f = (definition: string): ((...args: never[]) => number) => lib.func(definition) as (...args: never[]) => number;
  const fcntl = lib.func('int fcntl(int fd, int cmd, ...)') as (...args: unknown[]) => number;
  const epollWait = lib.func('int epoll_wait(int epfd, void *events, int maxevents, int timeout)');
  loaded = {
    koffi,
    epoll_create1: f('int epoll_create1(int flags)'),
    epoll_ctl: f('int epoll_ctl(int epfd, int op, int fd, void *event)'),
    epoll_wait: epollWait as unknown as Libc['epoll_wait'],
    epoll_wait_async: (epfd: number, events: Uint8Array, maxEvents: number, timeout: number, done: (error: unknown, count: number) => void) =>
      epollWait.async(epfd, events, maxEvents, timeout, done),
    socket: f('int socket(int domain, int type, int protocol)'),
    setsockopt: f('int setsockopt(int fd, int level, int name, void *value, uint32_t length)'),
    getsockopt: f('int getsockopt(int fd, int level, int name, void *value, void *length)'),
    bind: f('int bind(int fd, void *address, uint32_t length)'),
    listen: f('int listen(int fd, int backlog)'),
    accept4: f('int accept4(int fd, void *address, void *length, int flags)'),
    connect: f('int connect(int fd, void *address, uint32_t length)'),
    read: f('long read(int fd, void *buffer, size_t length)'),
    write: f('long write(int fd, void *buffer, size_t length)'),
    send: f('long send(int fd, void *buffer, size_t length, int flags)'),
    writev: f('long writev(int fd, void *iov, int count)'),
    shutdown: f('int shutdown(int fd, int how)'),
    close: f('int close(int fd)'),
    getsockname: f('int getsockname(int fd, void *address, void *length)'),
    getpeername: f('int getpeername(int fd, void *address, void *length)'),
    timerfd_create: f('int timerfd_create(int clock, int flags)'),
    timerfd_settime: f('int timerfd_settime(int fd, int flags, void *newValue, void *oldValue)'),
    open: f('int open(const char *path, int flags)'),
    eventfd: f('int eventfd(unsigned int initial, int flags)'),
    getFileFlags: (fd: number) => fcntl(fd, F_GETFL),
    setFileFlags: (fd: number, flags: number) => fcntl(fd, F_SETFL, 'int', flags),
    errno: () => koffi.errno(),
    address: (buffer: Uint8Array) => koffi.address(buffer),
    epollEventSize: koffi.sizeof(eventType),
    epollDataOffset: koffi.offsetof(eventType, 'data'),
  } as Libc;
  return loaded;
}

const ERRNO_NAMES: string[] = [];
for (const [name, value] of Object.entries(osConstants.errno)) {
  // Some values have two names (EAGAIN/EWOULDBLOCK, EDEADLK/EDEADLOCK): keep the first, the usual one.
  ERRNO_NAMES[value] ??= name;
}

/** The symbolic name of errno `value` (`ECONNRESET`, ...), or `E<value>` when unknown. */
export function errnoName(value: number): string {
  return ERRNO_NAMES[value] ?? `E${value}`;
}

/**
 * A Node-style system error for `syscall` failing with errno `value`: `code` is the errno's name,
 * so that `SocketError` picks it up as its `errno`.
 */
export function systemError(syscall: string, value: number): NodeJS.ErrnoException {
  const code = errnoName(value);
  const error = new Error(`${syscall} failed: ${code}`) as NodeJS.ErrnoException;
  error.code = code;
  error.errno = -value;
  error.syscall = syscall;
  return error;
}
