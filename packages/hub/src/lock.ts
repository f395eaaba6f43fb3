import type { SwitchToken } from '@loop/greenlet';
import { HubError, checkFunction, checkOptions, checkSize, checkTimeout } from './errors.js';
import type { Greenlet } from './greenlet.js';
import { TRUE, TIMED_OUT, currentGreenlet, suspendFor, type Blocking } from './waiting.js';
import { WaiterList } from './waiters.js';

/** Options of `acquire`. */
export interface AcquireOptions {
  /** Wait when the lock is taken (the default); otherwise evaluate to `false` at once. */
  block?: boolean;
  /** Wait at most this many ms, then evaluate to `false`. */
  timeout?: number;
}

// What a waiter of a semaphore waits for (its payload).
const ACQUIRE = 0;
const AVAILABLE = 1;

/**
 * gevent's `Semaphore`: a counter of permits; `acquire` takes one, waiting while there are
 * none, `release` gives one back. Fair: greenlets get permits in the order they asked, and a
 * newcomer does not overtake a waiting greenlet.
 *
 * A released permit is not handed to a waiter in advance: the hub switches to the first waiter
 * from its next drain and the waiter takes the permit itself, at once. So a waiter killed or
 * timed out before its turn takes nothing with it, and the permit goes to the next one.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(3);
 * yield* slots.acquire();
 * try { yield* fetchOne(); } finally { slots.release(); }
 * ```
 */
export class Semaphore {
  #counter: number;
  readonly #waiters = new WaiterList();
  #notifying = false;

  /**
   * @param value - the permits available at first (default 1)
   * @throws InvalidArgumentError unless `value` is an integer >= 0
   */
  constructor(value = 1) {
    this.#counter = checkSize('value', value, 0);
  }

  /** The permits available now. */
  get counter(): number {
    return this.#counter;
  }

  /** `true` when no permit is available (gevent's `locked()`). */
  locked(): boolean {
    return this.#counter <= 0;
  }

  /**
   * Take a permit, waiting for one (unless `block` is false), at most `timeout` ms if given.
   * Evaluates to `true` when taken, `false` when not (no wait, or timeout).
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet (there, {@link Semaphore.tryAcquire})
   */
  acquire(options?: AcquireOptions): Blocking<boolean> {
    const greenlet = currentGreenlet(`${this.constructor.name}.acquire()`);
    checkOptions('options', options);
    const timeout = checkTimeout('options.timeout', options?.timeout);
    if (this.#counter > 0 && this.#waiters.peek() === undefined) {
      this.#counter--;
      return TRUE;
    }
    return this.#acquire(greenlet, options?.block ?? true, timeout);
  }

  *#acquire(greenlet: Greenlet, block: boolean, timeout: number | undefined): Generator<SwitchToken, boolean, unknown> {
    if (!block) return false;
    this.#waiters.add(greenlet, ACQUIRE);
    if ((yield* suspendFor(greenlet, timeout)) === TIMED_OUT) return false;
    // Switched to by the notifier because a permit is free; nothing ran since: take it.
    this.#counter--;
    return true;
  }

  /**
   * Take a permit if one is free and nobody waits for it; never blocks, so it is safe anywhere.
   * Evaluates to whether it was taken.
   */
  tryAcquire(): boolean {
    if (this.#counter > 0 && this.#waiters.peek() === undefined) {
      this.#counter--;
      return true;
    }
    return false;
  }

  /**
   * Wait until a permit is free without taking it, at most `timeout` ms if given; evaluates to
   * the permits free then (0 on timeout).
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  wait(timeout?: number): Blocking<number> {
    const greenlet = currentGreenlet(`${this.constructor.name}.wait()`);
    return this.#wait(greenlet, checkTimeout('timeout', timeout));
  }

  *#wait(greenlet: Greenlet, timeout: number | undefined): Generator<SwitchToken, number, unknown> {
    if (this.#counter > 0) return this.#counter;
    this.#waiters.add(greenlet, AVAILABLE);
    yield* suspendFor(greenlet, timeout);
    return Math.max(0, this.#counter);
  }

  /** Give a permit back and wake the next waiter (from the hub's next drain). Safe anywhere. */
  release(): void {
    this.checkRelease();
    this.#counter++;
    if (this.#notifying) return;
    const first = this.#waiters.peek();
    if (first === undefined) return;
    this.#notifying = true;
    first.hub.schedule(notifyEntry, this, undefined, undefined);
  }

  /** Hook for subclasses: refuse a release that would break their rule (throw before counting). */
  protected checkRelease(): void {}

  /** @internal In the hub: switch to waiters in order while permits are free; each takes its own. */
  notify(): void {
    this.#notifying = false;
    while (this.#counter > 0) {
      const waiter = this.#waiters.shift();
      if (waiter === undefined) return;
      waiter.hub.resume(waiter, this.#waiters.token, true);
    }
  }
}

function notifyEntry(semaphore: unknown): void {
  (semaphore as Semaphore).notify();
}

/**
 * gevent's `BoundedSemaphore`: a {@link Semaphore} that refuses to be released more times than
 * it was acquired (a release over the initial value is a bug, and is reported as one).
 */
export class BoundedSemaphore extends Semaphore {
  readonly #initial: number;

  /** @see Semaphore's constructor */
  constructor(value = 1) {
    super(value);
    this.#initial = value;
  }

  /** @throws HubError `ERR_HUB_SEMAPHORE_OVER_RELEASED` when every permit is already free */
  protected override checkRelease(): void {
    if (this.counter >= this.#initial) {
      throw new HubError('ERR_HUB_SEMAPHORE_OVER_RELEASED', `${this.constructor.name} released more times than it was acquired`);
    }
  }
}

/**
 * gevent's `Lock`: one permit, not reentrant, not owned (any greenlet may release it, as gevent
 * and `threading.Lock` allow). Fair, like {@link Semaphore}.
 */
export class Lock extends Semaphore {
  constructor() {
    super(1);
  }

  /** @throws HubError `ERR_HUB_NOT_LOCKED` when the lock is not held */
  protected override checkRelease(): void {
    if (this.counter >= 1) throw new HubError('ERR_HUB_NOT_LOCKED', 'release() of a Lock that is not held');
  }
}

/**
 * gevent's `RLock`: a lock its owner may acquire again; it is free once released as many times.
 * Only the owner may release it.
 */
export class RLock {
  readonly #lock = new Lock();
  #owner: Greenlet | undefined = undefined;
  #count = 0;

  /** The greenlet holding it, if any. */
  get owner(): Greenlet | undefined {
    return this.#owner;
  }

  /** `true` while held. */
  locked(): boolean {
    return this.#owner !== undefined;
  }

  /**
   * Take the lock (again, if the running greenlet holds it), as {@link Semaphore.acquire}.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  acquire(options?: AcquireOptions): Blocking<boolean> {
    const greenlet = currentGreenlet('RLock.acquire()');
    if (this.#owner === greenlet) {
      this.#count++;
      return TRUE;
    }
    return this.#acquire(greenlet, this.#lock.acquire(options));
  }

  *#acquire(greenlet: Greenlet, acquiring: Blocking<boolean>): Generator<SwitchToken, boolean, unknown> {
    if (!(yield* acquiring)) return false;
    this.#owner = greenlet;
    this.#count = 1;
    return true;
  }

  /**
   * Release once; the lock is free when released as many times as acquired.
   * @throws HubError `ERR_HUB_NOT_LOCKED` unless the running greenlet holds it
   */
  release(): void {
    const greenlet = currentGreenlet('RLock.release()');
    if (this.#owner !== greenlet) throw new HubError('ERR_HUB_NOT_LOCKED', 'release() of an RLock the running greenlet does not hold');
    if (--this.#count > 0) return;
    this.#owner = undefined;
    this.#lock.release();
  }
}

/** Anything with `acquire` and `release`: the locks and semaphores of this module. */
export interface Lockable {
  /** Take it. */
  acquire(options?: AcquireOptions): Blocking<boolean>;
  /** Give it back. */
  release(): void;
}

/**
 * Run `fn()` (a generator function) holding `lock`: acquired first, released on every way out,
 * a kill included (Python's `with lock:`).
 * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet; whatever `fn` throws
 * @example
 * ```ts
 * const total = yield* withLock(accounts, function* () { return yield* transfer(a, b, 10); });
 * ```
 */
export function withLock<T>(lock: Lockable, fn: () => Generator<unknown, T, unknown>): Blocking<T> {
  currentGreenlet('withLock()');
  checkFunction('fn', fn);
  return holding(lock, fn);
}

function* holding<T>(lock: Lockable, fn: () => Generator<unknown, T, unknown>): Generator<SwitchToken, T, unknown> {
  yield* lock.acquire();
  try {
    return yield* fn() as Generator<SwitchToken, T, unknown>;
  } finally {
    lock.release();
  }
}
