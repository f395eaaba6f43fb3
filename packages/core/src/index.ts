/**
 * `@loop/core`: the EventLoop contract, its errors and capabilities, and backend selection.
 * @packageDocumentation
 */
export type { Capabilities, HttpLimitCapabilities } from './capabilities.js';
export { BACKENDS, createLoop, resolveBackend, type Backend, type CreateLoopOptions, type LoopOptions } from './create-loop.js';
export { EventLoopError, InvalidArgumentError, SocketError, UnsupportedError, type ErrorCode } from './errors.js';
export {
  DEFAULT_HTTP_LIMITS,
  type HttpHandler,
  type HttpHeaders,
  type HttpHeaderValue,
  type HttpLimits,
  type HttpRequest,
  type HttpRequestEvents,
  type HttpRequestSnapshot,
  type HttpResponse,
  type HttpResponseEvents,
  type HttpServer,
  type HttpServerOptions,
} from './http.js';
export {
  IoEvents,
  type Completion,
  type ErrorHandler,
  type EventLoop,
  type Handle,
  type IoWatcher,
  type PendingCallback,
  type Phase,
  type PhaseHook,
  type RunMode,
  type Timer,
} from './loop.js';
export type { ConnectOptions, ListenOptions, PeerAddress, SocketAddress, StreamEvents, TcpServer, TcpStream } from './stream.js';
export {
  isSendableCloseCode,
  type WebSocket,
  type WebSocketBehavior,
  type WebSocketSendStatus,
  type WebSocketServer,
  type WebSocketUpgrade,
} from './websocket.js';
