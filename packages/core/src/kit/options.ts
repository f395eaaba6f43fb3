import { checkNumber, EventLoopError, InvalidArgumentError, UnsupportedError } from '../errors.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../http.js';
import type { ConnectOptions, ListenOptions } from '../stream.js';
import { sameHeaderName } from './raw-headers.js';

/** {@link ListenOptions} with every default filled in and every value checked. */
export interface ResolvedListenOptions {
  readonly host: string;
  readonly port: number;
  readonly backlog: number;
  readonly reusePort: boolean;
}

function checkHost(host: unknown): string {
  if (typeof host !== 'string') throw new InvalidArgumentError(`host must be a non-empty string, got ${String(host)}`);
  if (host.length === 0) {
    throw new EventLoopError('ERR_INVALID_ARG', 'host must be a non-empty string, got an empty one');
  }
  return host;
}

function checkPort(port: unknown, min: number): number {
  if (typeof port !== 'number') throw new InvalidArgumentError(`port must be an integer, got ${String(port)}`);
  if (!Number.isInteger(port)) throw new EventLoopError('ERR_INVALID_ARG', `port must be an integer, got ${String(port)}`);
  return checkNumber('port', port, min, 65535);
}

/**
 * Check a chunk given to a stream's or a response's `write()`/`end()`: a wrong type is the caller's
 * mistake, refused before anything is sent.
 * @throws InvalidArgumentError when `data` is neither a string nor a Uint8Array
 */
export function checkChunk(data: unknown): void {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new InvalidArgumentError(`data must be a string or a Uint8Array, got ${data === null ? 'null' : typeof data}`);
  }
}

/**
 * Check listen options and fill in defaults (host `127.0.0.1`, port 0, backlog 511).
 * @throws EventLoopError `ERR_INVALID_ARG`
 */
export function resolveListenOptions(options: ListenOptions): ResolvedListenOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('listen options must be an object');
  const backlog = options.backlog ?? 511;
  if (!Number.isInteger(backlog)) throw new EventLoopError('ERR_INVALID_ARG', `backlog must be an integer, got ${String(backlog)}`);
  return {
    host: checkHost(options.host ?? '127.0.0.1'),
    port: checkPort(options.port ?? 0, 0),
    backlog: checkNumber('backlog', backlog, 1, 65535),
    reusePort: options.reusePort === true,
  };
}

/**
 * Check connect options and fill in defaults (host `127.0.0.1`, noDelay true).
 * @throws EventLoopError `ERR_INVALID_ARG`
 */
export function resolveConnectOptions(options: ConnectOptions): Required<ConnectOptions> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('connect options must be an object');
  return { host: checkHost(options.host ?? '127.0.0.1'), port: checkPort(options.port, 1), noDelay: options.noDelay !== false };
}

/** Limits a backend cannot set per server, with the value it enforces instead. */
export interface FixedHttpLimits {
  /** The backend's name, for the error. */
  readonly backend: string;
  /** The value of each limit the backend fixes (its `capabilities.httpLimits` entry is `false`). */
  readonly limits: Partial<Required<HttpLimits>>;
  /** Why they are fixed, for the error (`uWebSockets.js fixes them process-wide`, say). */
  readonly why: string;
}

/**
 * Check HTTP limits and fill in {@link DEFAULT_HTTP_LIMITS}, or the backend's value for a limit
 * it fixes. Asking for another value of a fixed limit is an {@link UnsupportedError} whose
 * capability is `httpLimits.<name>`.
 * @throws EventLoopError `ERR_INVALID_ARG`; UnsupportedError
 */
export function resolveHttpLimits(options: HttpLimits, fixed?: FixedHttpLimits): Required<HttpLimits> {
  const limits = { ...DEFAULT_HTTP_LIMITS };
  for (const key of Object.keys(DEFAULT_HTTP_LIMITS) as (keyof HttpLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = checkNumber(key, value, 1, 2 ** 31 - 1);
    const enforced = fixed?.limits[key];
    if (enforced === undefined || fixed === undefined) continue;
    if (value !== undefined && value !== enforced) {
      throw new UnsupportedError(fixed.backend, `httpLimits.${key}`, `${key} is fixed at ${enforced} (${fixed.why}); got ${value}`);
    }
    limits[key] = enforced;
  }
  return Object.freeze(limits);
}

/** {@link checkRequestHead}: the head is within the limits and no body follows. */
export const HEAD_OK = 0;
/** {@link checkRequestHead}: the head is within the limits and a body follows (Content-Length > 0 or Transfer-Encoding). */
export const HEAD_OK_WITH_BODY = 1;

/**
 * Check a request head against `limits`: {@link HEAD_OK} or {@link HEAD_OK_WITH_BODY} when it is
 * within them, else the status to refuse it with (414, 431, 413). `rawHeaders` is the flat
 * name/value list as received; the declared body is read from it in the same pass, so no header
 * object is built for this.
 */
export function checkRequestHead(limits: Required<HttpLimits>, url: string, rawHeaders: readonly string[]): number {
  if (url.length > limits.maxUrlLength) return 414;
  if (rawHeaders.length / 2 > limits.maxHeaderCount) return 431;
  // Size as on the wire: "name: value\r\n" per line.
  let size = 0;
  let declaredBody = 0;
  let chunked = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    size += name.length + value.length + 4;
    if (name.length === 14 && sameHeaderName(name, 'content-length')) declaredBody = Number(value);
    else if (name.length === 17 && sameHeaderName(name, 'transfer-encoding')) chunked = true;
  }
  if (size > limits.maxHeaderSize) return 431;
  if (declaredBody > limits.maxBodySize) return 413;
  return chunked || declaredBody > 0 ? HEAD_OK_WITH_BODY : HEAD_OK;
}
