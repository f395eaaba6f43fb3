/**
 * `@loop/core`: the EventLoop contract, its errors and capabilities, and backend selection.
 * @packageDocumentation
 */
export type { Capabilities } from './capabilities.js';
export { createLoop, resolveBackend, type Backend, type CreateLoopOptions, type LoopOptions } from './create-loop.js';
export { EventLoopError, SocketError, UnsupportedError, type ErrorCode } from './errors.js';
export {
  DEFAULT_HTTP_LIMITS,
  type HttpHandler,
  type HttpLimits,
  type HttpRequest,
  type HttpRequestEvents,
  type HttpResponse,
  type HttpResponseEvents,
  type HttpServer,
  type HttpServerOptions,
} from './http.js';
export type { ErrorHandler, EventLoop, Handle, PendingCallback, Phase, PhaseHook, RunMode, Timer } from './loop.js';
export type { ConnectOptions, ListenOptions, SocketAddress, StreamEvents, TcpServer, TcpStream } from './stream.js';
