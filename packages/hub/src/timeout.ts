import type { SwitchToken } from '@loop/greenlet';
import { HubError, checkFunction, checkOptions, checkTimeout } from './errors.js';
import type { Greenlet } from './greenlet.js';
import type { TimerSlot } from './hub.js';
import { currentGreenlet, type Blocking } from './waiting.js';

/**
 * gevent's `Timeout`: once started, it raises itself (or the exception given) in the greenlet
 * that started it, `ms` ms later, wherever that greenlet is then suspended (its next switch, if
 * it is running). It is an {@link HubError} with code `ERR_HUB_TIMEOUT`, so `catch` can tell it
 * from other errors, and tell one timeout from another by identity.
 *
 * Cancel it on every way out with `try`/`finally` (or use {@link withTimeout}, which does): an
 * uncancelled timeout keeps its timer and fires later into whatever its greenlet does then.
 * Its timer is stopped by `cancel()`, and when it fires. A timeout whose greenlet has finished
 * fires into nothing.
 *
 * @example
 * ```ts
 * const timeout = Timeout.startNew(100);
 * try {
 *   line = yield* lines.get();
 * } catch (error) {
 *   if (error !== timeout) throw error;  // someone else's timeout, or another failure
 *   line = undefined;                    // ours: 100 ms went by
 * } finally {
 *   timeout.cancel();
 * }
 * ```
 */
export class Timeout extends HubError<'ERR_HUB_TIMEOUT'> {
  /** The delay in ms; `undefined` for a timeout that never fires (gevent's `None`). */
  readonly ms: number | undefined;
  /** Raised in place of the timeout itself, when given. */
  readonly exception: unknown;
  #slot: TimerSlot | undefined = undefined;
  #greenlet: Greenlet | undefined = undefined;

  /**
   * An unstarted timeout (nothing runs until {@link Timeout.start}).
   * @param ms - delay in ms, or `undefined` for none (it never fires)
   * @param exception - raised instead of the timeout itself, if given
   * @param message - the error message; default `timed out after <ms> ms`
   * @throws InvalidArgumentError for a bad `ms`
   */
  constructor(ms?: number, exception?: unknown, message?: string) {
    const delay = checkTimeout('ms', ms);
    super('ERR_HUB_TIMEOUT', message ?? (delay === undefined ? 'timed out' : `timed out after ${delay} ms`));
    this.name = 'Timeout';
    this.ms = delay;
    this.exception = exception;
  }

  /**
   * Create and start a timeout in the running greenlet.
   * @throws as the constructor and {@link Timeout.start}
   */
  static startNew(ms?: number, exception?: unknown): Timeout {
    return new Timeout(ms, exception).start();
  }

  /** `true` while started and neither fired nor cancelled. */
  get pending(): boolean {
    return this.#slot !== undefined;
  }

  /**
   * Start the countdown for the running greenlet (a timeout without `ms` does nothing). Starting
   * a pending timeout restarts it.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside every greenlet: a timeout interrupts
   *   the greenlet that starts it, and main code is none
   */
  start(): this {
    const greenlet = currentGreenlet('Timeout.start()');
    this.cancel();
    if (this.ms === undefined) return this;
    this.#greenlet = greenlet;
    this.#slot = greenlet.hub.acquireTimer(this.ms, fireTimeout, this, undefined);
    return this;
  }

  /** Stop the countdown; nothing is raised afterwards. Idempotent, safe anywhere. */
  cancel(): void {
    const slot = this.#slot;
    if (slot === undefined) return;
    this.#slot = undefined;
    (this.#greenlet as Greenlet).hub.releaseTimer(slot);
    this.#greenlet = undefined;
  }

  /** @internal The timer went off (timer phase): raise in the greenlet, unless it has finished. */
  fire(): void {
    const greenlet = this.#greenlet as Greenlet;
    this.cancel();
    greenlet.hub.interrupt(greenlet, this.exception === undefined ? this : this.exception);
  }
}

function fireTimeout(timeout: unknown): void {
  (timeout as Timeout).fire();
}

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions<V> {
  /** Evaluate to this instead of raising when the time is up (even `undefined`, if present). */
  timeoutValue?: V;
}

/**
 * Run `fn()` (a generator function, called with `yield*`) in the running greenlet with a
 * {@link Timeout} of `ms`: evaluates to what it returns, or, if the time runs out first, raises
 * the `Timeout`, or evaluates to `options.timeoutValue` when that is given. The timeout's timer
 * is cancelled on every way out (gevent's `with_timeout`).
 * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet; InvalidArgumentError for bad arguments
 * @example
 * ```ts
 * const reply = yield* withTimeout(500, () => fetchReply(socket), { timeoutValue: null });
 * ```
 */
export function withTimeout<T, V = never>(
  ms: number,
  fn: () => Generator<unknown, T, unknown>,
  options?: WithTimeoutOptions<V>,
): Blocking<T | V> {
  currentGreenlet('withTimeout()');
  checkTimeout('ms', ms);
  checkFunction('fn', fn);
  checkOptions('options', options);
  return runWithTimeout(ms, fn, options !== undefined && 'timeoutValue' in options, options?.timeoutValue as V);
}

function* runWithTimeout<T, V>(
  ms: number,
  fn: () => Generator<unknown, T, unknown>,
  hasValue: boolean,
  timeoutValue: V,
): Generator<SwitchToken, T | V, unknown> {
  const timeout = Timeout.startNew(ms);
  try {
    return yield* fn() as Generator<SwitchToken, T, unknown>;
  } catch (error) {
    if (error === timeout && hasValue) return timeoutValue;
    throw error;
  } finally {
    timeout.cancel();
  }
}
