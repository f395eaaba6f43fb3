/**
 * Stable machine-readable codes carried by every {@link EventLoopError}.
 *
 * - `ERR_LOOP_CLOSED`: the loop was closed; nothing can be scheduled on it.
 * - `ERR_LOOP_RUNNING`: `run()` was called while the loop is already running (it is not reentrant).
 * - `ERR_LOOP_BUSY`: `close()` was called while handles are still live.
 * - `ERR_HANDLE_CLOSED`: the handle was closed and cannot be started again.
 * - `ERR_UNSUPPORTED`: the backend lacks the capability (see {@link UnsupportedError}).
 * - `ERR_INVALID_ARG`: an argument is out of range or of the wrong type.
 * - `ERR_BACKEND_NOT_FOUND`: `createLoop` could not resolve the backend package.
 * - `ERR_SOCKET`: a socket operation failed; the errno error is in `cause`.
 * - `ERR_REQUEST_EXPIRED`: an HTTP request's head was read, or its body callbacks attached, after
 *   the handler's synchronous call returned (keep what you need with `request.snapshot()`).
 * - `ERR_HEADERS_SENT`: an HTTP response's status or headers were set after they were sent.
 * - `ERR_BLOCKING_IN_CALLBACK`: a blocking call was made where nothing can block (the hub uses it
 *   for a greenlet-only call made from a plain callback or main code).
 */
export type ErrorCode =
  | 'ERR_LOOP_CLOSED'
  | 'ERR_LOOP_RUNNING'
  | 'ERR_LOOP_BUSY'
  | 'ERR_HANDLE_CLOSED'
  | 'ERR_UNSUPPORTED'
  | 'ERR_INVALID_ARG'
  | 'ERR_BACKEND_NOT_FOUND'
  | 'ERR_SOCKET'
  | 'ERR_REQUEST_EXPIRED'
  | 'ERR_HEADERS_SENT'
  | 'ERR_BLOCKING_IN_CALLBACK';

/**
 * Base class of every error the library throws. `code` is stable across
 * versions; the underlying errno or native error, when there is one, is in `cause`.
 */
export class EventLoopError<Code extends string = ErrorCode> extends Error {
  /** Stable code naming the failure; compare on this, not on `message`. */
  readonly code: Code;

  /**
   * `instanceof EventLoopError` is also true for an {@link InvalidArgumentError}, which is a
   * `TypeError` (Node's convention for a wrong-type argument) and so cannot inherit from this class:
   * one hierarchy for `instanceof`, one `code` to switch on. Subclasses keep the ordinary check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === EventLoopError && typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[LOOP_ERROR] === true;
  }

  /**
   * @param code - stable code naming the failure (packages built on core, such as the greenlet
   *   layer, extend the class with codes of their own through the `Code` parameter)
   * @param message - human-readable explanation
   * @param options - `cause`: the errno or native error behind this one
   */
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventLoopError';
    this.code = code;
  }
}

/** Marks classes outside this hierarchy whose instances are `instanceof EventLoopError` too. */
const LOOP_ERROR: unique symbol = Symbol.for('@loop/core:EventLoopError');

/**
 * A wrong-type argument: a `TypeError`, as Node throws for one, with the stable code
 * `ERR_INVALID_ARG`, and `instanceof EventLoopError` too (see {@link EventLoopError}), so that
 * code catching the library's errors catches it. Out-of-range values of the right type are plain
 * `EventLoopError`s with the same code.
 *
 * @example
 * ```ts
 * try { loop.callSoon(42 as never); } catch (error) {
 *   error instanceof TypeError && error instanceof EventLoopError; // true
 *   (error as InvalidArgumentError).code;                          // 'ERR_INVALID_ARG'
 * }
 * ```
 */
export class InvalidArgumentError extends TypeError {
  /** Always `ERR_INVALID_ARG`. */
  readonly code = 'ERR_INVALID_ARG' as const;
  declare readonly [LOOP_ERROR]: true;

  /**
   * @param message - what was wrong and what is expected
   * @param options - `cause`: the error behind this one
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidArgumentError';
  }
}
Object.defineProperty(InvalidArgumentError.prototype, LOOP_ERROR, { value: true });

/**
 * Thrown when a backend is asked for a capability it declares missing in
 * {@link Capabilities}: the feature is never faked or silently ignored.
 */
export class UnsupportedError extends EventLoopError<'ERR_UNSUPPORTED'> {
  /** The backend that lacks the capability. */
  readonly backend: string;
  /** The capability's key in {@link Capabilities}. */
  readonly capability: string;

  /**
   * @param backend - name of the backend (`libuv`, `uws`, ...)
   * @param capability - key of the missing capability
   * @param why - why the backend cannot offer it
   */
  constructor(backend: string, capability: string, why: string) {
    super('ERR_UNSUPPORTED', `backend '${backend}' does not support '${capability}': ${why}`);
    this.name = 'UnsupportedError';
    this.backend = backend;
    this.capability = capability;
  }
}

/**
 * Wraps a system error (an `errno` error from Node or a native call) in an
 * {@link EventLoopError} with code `ERR_SOCKET`, keeping the original in `cause`
 * and its errno name (`ECONNRESET`, `EADDRINUSE`, ...) in `errno`.
 */
export class SocketError extends EventLoopError<'ERR_SOCKET'> {
  /** The errno name reported by the system, such as `ECONNRESET`; `undefined` when unknown. */
  readonly errno: string | undefined;

  /**
   * @param message - what was being done
   * @param cause - the original system error
   */
  constructor(message: string, cause: unknown) {
    const errno = typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
    super('ERR_SOCKET', errno ? `${message}: ${errno}` : message, { cause });
    this.name = 'SocketError';
    this.errno = errno;
  }
}

/**
 * Throws `ERR_INVALID_ARG` unless `value` is a finite number in `[min, max]`: an
 * {@link InvalidArgumentError} when it is not a number at all.
 */
export function checkNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw new InvalidArgumentError(`${name} must be a number, got ${value === null ? 'null' : typeof value}`);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new EventLoopError('ERR_INVALID_ARG', `${name} must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws an {@link InvalidArgumentError} unless `value` is a function. */
export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new InvalidArgumentError(`${name} must be a function, got ${value === null ? 'null' : typeof value}`);
  }
}
