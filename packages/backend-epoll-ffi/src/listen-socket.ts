import { SocketError, type ListenOptions, type SocketAddress } from '@loop/core';
import type { ResolvedListenOptions } from '@loop/core/kit';
import { AF_INET, AF_INET6, O_NONBLOCK, SO_REUSEADDR, SO_REUSEPORT, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET } from './constants.js';
import type { EpollLoop } from './epoll-loop.js';
import { systemError } from './libc.js';
import { decodeSockaddr, encodeSockaddr, SOCKADDR_SIZE } from './sockaddr.js';

/**
 * Listen options this backend adds to the contract's (pass them to `listen` or `serveHttp`).
 */
export interface EpollListenOptions extends ListenOptions {
  /**
   * Accept on this listening socket instead of binding one: a socket shared by several processes
   * (the parent made it and passed it down, as `stdio` fd 3 say). The server takes it over: it is
   * made non-blocking and closed by `close()`. `host`, `port`, `backlog` and `reusePort` are not
   * used then.
   */
  readonly fd?: number;
  /**
   * Register the listening socket with `EPOLLEXCLUSIVE`: of the epoll sets (processes) waiting on
   * one shared socket, the kernel wakes one per connection instead of all of them (the thundering
   * herd). Meant with `fd`; it does nothing useful for a socket no one else waits on.
   */
  readonly exclusive?: boolean;
}

/** `serveHttp` options this backend adds: {@link EpollListenOptions} and the parser. */
export interface EpollHttpOptions extends EpollListenOptions {
  /**
   * `'fast'` (the default): complete requests in the strict common form are read by the backend's
   * fast path in JavaScript, everything else by llhttp. `'llhttp'`: every request goes through
   * llhttp (to compare, or to rule the fast path out). Both refuse the same input.
   */
  readonly parser?: 'fast' | 'llhttp';
}

/** A listening socket, open and bound. */
export interface ListeningSocket {
  readonly fd: number;
  readonly address: SocketAddress;
  readonly exclusive: boolean;
}

function fail(loop: EpollLoop, fd: number, what: string, syscall: string): never {
  const errno = loop.libc.errno();
  if (fd >= 0) loop.libc.close(fd);
  throw new SocketError(what, systemError(syscall, errno));
}

/** The bound address of `fd` (getsockname). */
export function localAddress(loop: EpollLoop, fd: number): SocketAddress | undefined {
  loop.addressLength.writeUInt32LE(SOCKADDR_SIZE, 0);
  if (loop.libc.getsockname(fd, loop.addressBuffer, loop.addressLength) !== 0) return undefined;
  return decodeSockaddr(loop.addressBuffer);
}

/**
 * Open a non-blocking listening socket for `options` (`host` already an IP literal), with
 * SO_REUSEADDR as libuv sets it, and SO_REUSEPORT when asked; or take over `extra.fd`.
 * @throws SocketError (`EADDRINUSE`, `EACCES`, `EBADF`...) with nothing left open
 */
export function openListenSocket(loop: EpollLoop, options: ResolvedListenOptions, extra: EpollListenOptions): ListeningSocket {
  const libc = loop.libc;
  const exclusive = extra.exclusive === true;
  if (extra.fd !== undefined) {
    const fd = extra.fd;
    const flags = libc.getFileFlags(fd);
    if (flags < 0 || (libc.setFileFlags(fd, flags | O_NONBLOCK) < 0)) fail(loop, -1, `cannot take over fd ${fd}`, 'fcntl');
    const address = localAddress(loop, fd);
    if (address === undefined) fail(loop, -1, `fd ${fd} is not a bound socket`, 'getsockname');
    return { fd, address, exclusive };
  }
  const where = `listen on ${options.host}:${options.port}`;
  const length = encodeSockaddr(options.host, options.port, loop.addressBuffer);
  const fd = libc.socket(length === 16 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(loop, -1, `${where} failed`, 'socket');
  const one = loop.intBuffer;
  one.writeInt32LE(1, 0);
  if (libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) !== 0) fail(loop, fd, `${where} failed`, 'setsockopt');
  if (options.reusePort && libc.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, one, 4) !== 0) fail(loop, fd, `${where} failed`, 'setsockopt');
  // setsockopt may not touch the address buffer, but encode again rather than rely on it.
  encodeSockaddr(options.host, options.port, loop.addressBuffer);
  if (libc.bind(fd, loop.addressBuffer, length) !== 0) fail(loop, fd, `${where} failed`, 'bind');
  if (libc.listen(fd, options.backlog) !== 0) fail(loop, fd, `${where} failed`, 'listen');
  const address = localAddress(loop, fd);
  if (address === undefined) fail(loop, fd, `${where} failed`, 'getsockname');
  return { fd, address, exclusive };
}
