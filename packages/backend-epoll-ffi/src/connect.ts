import { SocketError, type Completion, type TcpStream } from '@loop/core';
import { AF_INET, AF_INET6, EINPROGRESS, EINTR, IPPROTO_TCP, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, TCP_NODELAY } from './constants.js';
import type { EpollLoop } from './epoll-loop.js';
import { HostWatch, UV_WRITABLE } from './host-watch.js';
import { systemError } from './libc.js';
import { encodeSockaddr } from './sockaddr.js';
import { EpollTcpStream, socketError } from './tcp-stream.js';

/**
 * Open a TCP connection to `host` (an IP literal) and `port`; `done` gets the stream or an
 * `ERR_SOCKET` error, and nothing is left open after a failure.
 *
 * The non-blocking connect is watched by a `uv_poll` of its own on Node's loop, not by the loop's
 * epoll set: the contract's promise form must settle while the loop is not running, and the loop's
 * epoll set is only drained while it runs. It is one short-lived handle per connect, never on a
 * per-request path.
 */
export function connectStream(loop: EpollLoop, host: string, port: number, noDelay: boolean, done: Completion<TcpStream>): void {
  const libc = loop.libc;
  const where = `connect to ${host}:${port}`;
  const length = encodeSockaddr(host, port, loop.addressBuffer);
  const fd = libc.socket(length === 16 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    done(new SocketError(`${where} failed`, systemError('socket', libc.errno())), undefined);
    return;
  }
  if (noDelay) {
    loop.intBuffer.writeInt32LE(1, 0);
    libc.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, loop.intBuffer, 4);
  }
  let status: number;
  do {
    encodeSockaddr(host, port, loop.addressBuffer);
    status = libc.connect(fd, loop.addressBuffer, length);
  } while (status !== 0 && libc.errno() === EINTR);
  const connected = (): void => {
    const stream = new EpollTcpStream(loop, fd);
    done(undefined, stream);
    stream.settle();
  };
  if (status === 0) {
    connected();
    return;
  }
  const errno = libc.errno();
  if (errno !== EINPROGRESS) {
    libc.close(fd);
    done(new SocketError(`${where} failed`, systemError('connect', errno)), undefined);
    return;
  }
  let watch: HostWatch | undefined = undefined;
  try {
    watch = new HostWatch(libc.koffi, fd, UV_WRITABLE, () => {
      const error = socketError(loop, fd);
      // uv_close runs epoll_ctl(DEL) on Node's epoll set synchronously: the fd is ours again after it.
      watch?.close();
      if (error === 0) {
        connected();
      } else {
        libc.close(fd);
        done(new SocketError(`${where} failed`, systemError('connect', error)), undefined);
      }
    });
  } catch (error) {
    libc.close(fd);
    done(new SocketError(`${where} failed`, error), undefined);
    return;
  }
  watch.start();
}
