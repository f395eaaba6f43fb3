import { EventLoopError, InvalidArgumentError } from '@loop/core';

// Wrong-type arguments throw core's InvalidArgumentError: a TypeError (Node's convention) that is
// also `instanceof EventLoopError`, with code ERR_INVALID_ARG.
export { InvalidArgumentError };

/**
 * Stable machine-readable codes carried by every {@link HubError}.
 *
 * - `ERR_BLOCKING_IN_CALLBACK`: a blocking call (`sleep`, `join`, `wait`, `get`, `acquire`, ...)
 *   was made outside every greenlet: in main code or a loop callback, where nothing can block.
 *   Spawn a greenlet (or use {@link Hub.run}) and block there. (Core reserves the code for this.)
 * - `ERR_HUB_RAW_GREENLET`: a blocking call was made in a greenlet the hub did not spawn (a raw
 *   `@loop/greenlet` greenlet): the hub can only resume greenlets it spawned.
 * - `ERR_HUB_NO_CURRENT_HUB`: `spawn`, `getHub()` and the like were called outside every hub
 *   greenlet without saying which hub (or loop) to use.
 * - `ERR_HUB_DESTROYED`: the hub was destroyed; nothing can be scheduled on it any more.
 * - `ERR_HUB_LOOP_EXIT`: the loop ran out of work while {@link Hub.run}'s main greenlet was still
 *   blocked: nothing could ever wake it (gevent's `LoopExit`). It is raised in that greenlet.
 * - `ERR_HUB_TIMEOUT`: a {@link Timeout} expired (the code of every `Timeout`).
 * - `ERR_HUB_EMPTY`: a queue or channel had no item for a non-blocking or timed-out `get`.
 * - `ERR_HUB_FULL`: a queue or channel had no room for a non-blocking or timed-out `put`.
 * - `ERR_HUB_TASK_DONE`: `Queue.taskDone()` was called more times than items were put.
 * - `ERR_HUB_NOT_LOCKED`: `release()` on a lock that is not held, or an `RLock` held by another
 *   greenlet.
 * - `ERR_HUB_SEMAPHORE_OVER_RELEASED`: a `BoundedSemaphore` was released more times than acquired.
 * - `ERR_HUB_ALREADY_STARTED`: a greenlet was started twice, or added to a pool after it started.
 * - `ERR_HUB_GREENLET_FAILED`: how the default error handler reports a greenlet that died of an
 *   exception; the exception is in `cause`, the greenlet in `greenlet`.
 */
export type HubErrorCode =
  | 'ERR_BLOCKING_IN_CALLBACK'
  | 'ERR_HUB_RAW_GREENLET'
  | 'ERR_HUB_NO_CURRENT_HUB'
  | 'ERR_HUB_DESTROYED'
  | 'ERR_HUB_LOOP_EXIT'
  | 'ERR_HUB_TIMEOUT'
  | 'ERR_HUB_EMPTY'
  | 'ERR_HUB_FULL'
  | 'ERR_HUB_TASK_DONE'
  | 'ERR_HUB_NOT_LOCKED'
  | 'ERR_HUB_SEMAPHORE_OVER_RELEASED'
  | 'ERR_HUB_ALREADY_STARTED'
  | 'ERR_HUB_GREENLET_FAILED';

/**
 * Every failure of the hub layer is a `HubError`: an {@link EventLoopError} (the hierarchy of
 * core and `@loop/greenlet` too) with a stable {@link HubErrorCode}. Wrong-type arguments are
 * {@link InvalidArgumentError}s instead.
 */
export class HubError<Code extends HubErrorCode = HubErrorCode> extends EventLoopError<Code> {
  /**
   * @param code - stable code naming the failure
   * @param message - what happened and what to do instead
   * @param options - `cause`: the error behind this one
   */
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'HubError';
  }
}

/** Throws {@link InvalidArgumentError} unless `value` is a function. */
export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') throw new InvalidArgumentError(`${name} must be a function, got ${describe(value)}`);
}

/**
 * Checks a timeout in ms: `undefined` (or `null`) means none, else a finite number >= 0.
 * @throws InvalidArgumentError otherwise
 */
export function checkTimeout(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number of ms >= 0 (or undefined for none), got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks a size: an integer >= `min`, or `Infinity` when `allowInfinity`.
 * @throws InvalidArgumentError otherwise
 */
export function checkSize(name: string, value: unknown, min: number, allowInfinity = false): number {
  if (typeof value === 'number' && ((allowInfinity && value === Infinity) || (Number.isInteger(value) && value >= min))) return value;
  throw new InvalidArgumentError(`${name} must be an integer >= ${min}${allowInfinity ? ' (or Infinity)' : ''}, got ${describe(value)}`);
}

/** Checks that `value` is an object (an options bag) or undefined. */
export function checkOptions<T extends object>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new InvalidArgumentError(`${name} must be an object or undefined, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/**
 * How the hub's default error handler reports a greenlet that died of an exception: the loop's
 * error handler receives this, with the exception in `cause` and the greenlet in `greenlet`. Its
 * `stack` is the exception's stack followed by the line gevent prints,
 * `<Greenlet "name": fn> failed with TypeError`, so the default loop handler prints it as gevent
 * does.
 */
export class GreenletFailure extends HubError<'ERR_HUB_GREENLET_FAILED'> {
  /** The greenlet that died. */
  readonly greenlet: { toString(): string };

  /**
   * @param greenlet - the greenlet that died
   * @param error - what it died of
   */
  constructor(greenlet: { toString(): string }, error: unknown) {
    const kind = error instanceof Error ? error.name : typeof error;
    const line = `${String(greenlet)} failed with ${kind}`;
    super('ERR_HUB_GREENLET_FAILED', error instanceof Error ? `${line}: ${error.message}` : `${line}: ${String(error)}`, { cause: error });
    this.name = 'GreenletFailure';
    this.greenlet = greenlet;
    this.stack = `${error instanceof Error && error.stack ? error.stack : String(error)}\n${line}`;
  }
}
