import { EventLoopError } from '@loop/core';

/**
 * Stable machine-readable codes carried by every {@link GreenletError}.
 *
 * - `ERR_GREENLET_NO_RUN`: a switch or throw tried to start a greenlet that has no `run`.
 * - `ERR_GREENLET_PARENT_CYCLE`: setting `parent` would make a greenlet its own ancestor.
 * - `ERR_GREENLET_MAIN_PARENT`: the main greenlet's parent cannot be set: it is the root.
 * - `ERR_GREENLET_SWITCH_NOT_YIELDED`: inside a greenlet, `switch()` or `throw()` was called
 *   but its result was not consumed with `yield*` (the one rule was broken).
 * - `ERR_GREENLET_BARE_YIELD`: a greenlet's generator yielded on its own (`yield x`, or
 *   `yield g.switch()` without the star) instead of delegating to a switch with `yield*`.
 * - `ERR_GREENLET_SWITCH_IN_TRACER`: a trace function tried to switch; tracers only observe.
 */
export type GreenletErrorCode =
  | 'ERR_GREENLET_NO_RUN'
  | 'ERR_GREENLET_PARENT_CYCLE'
  | 'ERR_GREENLET_MAIN_PARENT'
  | 'ERR_GREENLET_SWITCH_NOT_YIELDED'
  | 'ERR_GREENLET_BARE_YIELD'
  | 'ERR_GREENLET_SWITCH_IN_TRACER';

/**
 * Every misuse of the greenlet API throws a `GreenletError`, an {@link EventLoopError} like
 * every error of the library (the hub's errors and core's are the same hierarchy). `code` is
 * stable across versions; compare on it, not on `message`.
 */
export class GreenletError extends EventLoopError<GreenletErrorCode> {
  /**
   * @param code - stable code naming the failure
   * @param message - human-readable explanation, saying what to do instead
   */
  constructor(code: GreenletErrorCode, message: string) {
    super(code, message);
    this.name = 'GreenletError';
  }
}

/**
 * The exception that kills a greenlet: `g.throw()` with no argument throws a new
 * `GreenletExit` into `g`. A greenlet that does not catch it dies, and its parent
 * receives the `GreenletExit` instance as an ordinary switch value rather than as an
 * exception (so killing a child never raises in the parent). Like every error of the
 * library it is an {@link EventLoopError}, with code `ERR_GREENLET_EXIT`.
 *
 * @example
 * ```ts
 * const g = greenlet(function* () { yield* getcurrent().parent!.switch(); });
 * g.switch();                                  // g is now suspended
 * const v = g.throw();                         // kill it
 * v instanceof GreenletExit && g.dead;         // true
 * ```
 */
export class GreenletExit extends EventLoopError<'ERR_GREENLET_EXIT'> {
  /** @param message - optional reason for the kill */
  constructor(message = 'greenlet killed') {
    super('ERR_GREENLET_EXIT', message);
    this.name = 'GreenletExit';
  }
}
