import type { SwitchToken } from '@loop/greenlet';
import { Broadcast } from './broadcast.js';
import { checkOptions, checkTimeout } from './errors.js';
import type { GetOptions, Greenlet } from './greenlet.js';
import { Timeout } from './timeout.js';
import { TRUE, currentGreenlet, suspend, type Blocking } from './waiting.js';

/**
 * gevent's `Event`: a flag that greenlets can wait for. `set()` wakes every greenlet waiting at
 * that moment (from the hub's next drain, pending phase); `clear()` lowers the flag again.
 *
 * @example
 * ```ts
 * const ready = new Event();
 * spawn(function* () { yield* ready.wait(); console.log('go'); });
 * spawn(function* () { yield* sleep(10); ready.set(); });
 * ```
 */
export class Event {
  #flag = false;
  readonly #waiters = new Broadcast();

  /** `true` while the flag is set. */
  isSet(): boolean {
    return this.#flag;
  }

  /** Set the flag and wake every greenlet waiting now. Safe anywhere; never switches. */
  set(): void {
    this.#flag = true;
    this.#waiters.wakeAll();
  }

  /** Lower the flag: greenlets waiting from now on wait for the next `set()`. */
  clear(): void {
    this.#flag = false;
  }

  /**
   * Wait until the flag is set (at once if it is), at most `timeout` ms if given. Evaluates to
   * the flag: `true`, or `false` if the timeout came first.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet (even when the flag is set:
   *   a call that may block is refused where it could not); InvalidArgumentError for a bad timeout
   */
  wait(timeout?: number): Blocking<boolean> {
    const greenlet = currentGreenlet('Event.wait()');
    const limit = checkTimeout('timeout', timeout);
    if (this.#flag) return TRUE;
    if (limit === undefined) {
      // Hot path (100,000 waiters cost no generator each): register, then switch to the hub,
      // which resumes us with `true`. A kill makes the registration stale; nothing to undo.
      this.#waiters.add(greenlet);
      return suspend() as Blocking<boolean>;
    }
    return this.#waitFor(greenlet, limit);
  }

  *#waitFor(greenlet: Greenlet, timeout: number): Generator<SwitchToken, boolean, unknown> {
    const woken = yield* this.#waiters.wait(greenlet, timeout);
    return woken || this.#flag;
  }
}

const PENDING = 0;
const VALUE = 1;
const EXCEPTION = 2;

/**
 * gevent's `AsyncResult`: a one-time value (or exception) that greenlets can wait for; a future.
 * Setting it again replaces the result and wakes whoever waits then.
 *
 * @example
 * ```ts
 * const reply = new AsyncResult<string>();
 * loop.timer(() => reply.set('pong')).start(10);   // from a callback: fine, set() never blocks
 * const text = yield* reply.get();                   // in a greenlet
 * ```
 */
export class AsyncResult<T = unknown> {
  #state = PENDING;
  #result: unknown = undefined;
  readonly #waiters = new Broadcast();

  /** `true` once a value or an exception was set. */
  get ready(): boolean {
    return this.#state !== PENDING;
  }

  /** `true` once a value (not an exception) was set. */
  get successful(): boolean {
    return this.#state === VALUE;
  }

  /** The value, once set; `undefined` before or after an exception. */
  get value(): T | undefined {
    return this.#state === VALUE ? (this.#result as T) : undefined;
  }

  /** The exception, once set; `undefined` otherwise. */
  get exception(): unknown {
    return this.#state === EXCEPTION ? this.#result : undefined;
  }

  /** Store `value` and wake every greenlet waiting. Safe anywhere; never switches. */
  set(value: T): void {
    this.#state = VALUE;
    this.#result = value;
    this.#waiters.wakeAll();
  }

  /** Store `error`, raised by `get()`, and wake every greenlet waiting. Safe anywhere. */
  setException(error: unknown): void {
    this.#state = EXCEPTION;
    this.#result = error;
    this.#waiters.wakeAll();
  }

  /**
   * Evaluate to the value, or raise the exception, waiting for one first (unless `block` is false).
   * @throws the stored exception; {@link Timeout} when none arrives in time (or at once without
   *   `block`); HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  get(options?: GetOptions): Blocking<T> {
    const greenlet = currentGreenlet('AsyncResult.get()');
    checkOptions('options', options);
    const timeout = checkTimeout('options.timeout', options?.timeout);
    return this.#get(greenlet, options?.block ?? true, timeout);
  }

  *#get(greenlet: Greenlet, block: boolean, timeout: number | undefined): Generator<SwitchToken, T, unknown> {
    if (this.#state === PENDING) {
      if (!block) throw new Timeout(undefined, undefined, 'the AsyncResult has no result yet');
      yield* this.#waiters.wait(greenlet, timeout);
      if (this.#state === PENDING) throw new Timeout(timeout, undefined, `the AsyncResult got no result within ${String(timeout)} ms`);
    }
    if (this.#state === EXCEPTION) throw this.#result;
    return this.#result as T;
  }

  /**
   * Wait until a result is set, at most `timeout` ms if given, without raising: evaluates to the
   * value (`undefined` on timeout or after an exception).
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  wait(timeout?: number): Blocking<T | undefined> {
    const greenlet = currentGreenlet('AsyncResult.wait()');
    return this.#wait(greenlet, checkTimeout('timeout', timeout));
  }

  *#wait(greenlet: Greenlet, timeout: number | undefined): Generator<SwitchToken, T | undefined, unknown> {
    if (this.#state === PENDING) yield* this.#waiters.wait(greenlet, timeout);
    return this.value;
  }
}
