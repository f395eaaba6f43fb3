/**
 * `@loop/backend-epoll-ffi`: the `EventLoop` contract on a raw Linux epoll set driven through
 * koffi (libc's epoll, socket and read/write calls), with HTTP/1.1 served on raw sockets through
 * Node's own llhttp. The loop waits inside Node's event loop (a `uv_poll` on its epoll fd), so
 * promises, Node timers and Node I/O go on while it runs, and an idle loop costs no CPU.
 * See the package README for the design, the trigger modes and the figures.
 * @packageDocumentation
 */
import { UnsupportedError } from '@loop/core';
import { name } from './capabilities.js';
import { EpollLoop, type EpollEventLoop, type EpollLoopOptions } from './epoll-loop.js';
import { loadLibc } from './libc.js';
import { platformProblem } from './platform.js';

export { capabilities, name } from './capabilities.js';
export type { EpollEventLoop, EpollLoopOptions, EpollStats, TriggerMode } from './epoll-loop.js';
export type { EpollHttpOptions, EpollListenOptions } from './listen-socket.js';

/**
 * Create a loop on its own epoll set. Callbacks run in the phases of the `EventLoop` contract; I/O
 * callbacks in the poll phase, from one `epoll_wait` batch per tick.
 * @throws UnsupportedError (capability `platform`) anywhere but Linux on x64 or arm64, where this
 * package still imports fine; EventLoopError `ERR_INVALID_ARG` for a bad `trigger`
 * @example
 * ```ts
 * import { createLoop } from '@loop/backend-epoll-ffi';
 * const loop = createLoop({ trigger: 'edge' });
 * const server = await loop.serveHttp({ port: 8080 }, (request, response) => {
 *   response.respond(200, { 'content-type': 'text/plain' }, 'hello world');
 * });
 * await loop.run();
 * ```
 */
export function createLoop(options: EpollLoopOptions = {}): EpollEventLoop {
  const problem = platformProblem();
  if (problem !== undefined) throw new UnsupportedError(name, 'platform', problem);
  return new EpollLoop(loadLibc(), options);
}
