import { checkNumber, EventLoopError } from '../errors.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../http.js';
import type { ConnectOptions, ListenOptions } from '../stream.js';

/** {@link ListenOptions} with every default filled in and every value checked. */
export interface ResolvedListenOptions {
  readonly host: string;
  readonly port: number;
  readonly backlog: number;
  readonly reusePort: boolean;
}

function checkHost(host: unknown): string {
  if (typeof host !== 'string' || host.length === 0) {
    throw new EventLoopError('ERR_INVALID_ARG', `host must be a non-empty string, got ${String(host)}`);
  }
  return host;
}

function checkPort(port: unknown, min: number): number {
  if (!Number.isInteger(port)) throw new EventLoopError('ERR_INVALID_ARG', `port must be an integer, got ${String(port)}`);
  return checkNumber('port', port, min, 65535);
}

/**
 * Check listen options and fill in defaults (host `127.0.0.1`, port 0, backlog 511).
 * @throws EventLoopError `ERR_INVALID_ARG`
 */
export function resolveListenOptions(options: ListenOptions): ResolvedListenOptions {
  if (typeof options !== 'object' || options === null) throw new EventLoopError('ERR_INVALID_ARG', 'listen options must be an object');
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
  if (typeof options !== 'object' || options === null) throw new EventLoopError('ERR_INVALID_ARG', 'connect options must be an object');
  return { host: checkHost(options.host ?? '127.0.0.1'), port: checkPort(options.port, 1), noDelay: options.noDelay !== false };
}

/**
 * Check HTTP limits and fill in {@link DEFAULT_HTTP_LIMITS}.
 * @throws EventLoopError `ERR_INVALID_ARG`
 */
export function resolveHttpLimits(options: HttpLimits): Required<HttpLimits> {
  const limits = { ...DEFAULT_HTTP_LIMITS };
  for (const key of Object.keys(DEFAULT_HTTP_LIMITS) as (keyof HttpLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = checkNumber(key, value, 1, 2 ** 31 - 1);
  }
  return limits;
}

/**
 * The status a request head must be refused with under `limits` (414, 431, 413), or 0 when it
 * is within them. `rawHeaders` is the flat name/value list as received; the declared body size
 * is read from its Content-Length in the same pass, so no header object is built for this.
 */
export function checkRequestHead(limits: Required<HttpLimits>, url: string, rawHeaders: readonly string[]): number {
  if (url.length > limits.maxUrlLength) return 414;
  if (rawHeaders.length / 2 > limits.maxHeaderCount) return 431;
  // Size as on the wire: "name: value\r\n" per line.
  let size = 0;
  let declaredBody = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    size += name.length + value.length + 4;
    if (name.length === 14 && name.toLowerCase() === 'content-length') declaredBody = Number(value);
  }
  if (size > limits.maxHeaderSize) return 431;
  if (declaredBody > limits.maxBodySize) return 413;
  return 0;
}
