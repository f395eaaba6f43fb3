import type { SwitchToken } from '@loop/greenlet';
import { checkTimeout } from './errors.js';
import type { Greenlet } from './greenlet.js';
import { Timeout } from './timeout.js';
import { TIMED_OUT, currentGreenlet, resumeEntry, suspend, throwEntry, type Blocking } from './waiting.js';

/**
 * The longest delay the contract promises to honour: the keep-alive timer of a wait with no
 * timeout never fires in practice.
 */
const FOREVER = Number.MAX_SAFE_INTEGER;

/**
 * Wait in a greenlet for a promise (or any thenable) to settle: evaluates to its value, or raises
 * its rejection, at most `timeout` ms if given (then a {@link Timeout} is raised). The bridge
 * from `async` code into greenlets.
 *
 * The promise settles in a microtask, outside the loop's phases; the greenlet is resumed from
 * the hub's next drain (pending phase), like everything else. While it waits, a loop timer keeps
 * the loop alive (the promise is work the loop cannot see), and is stopped on every way out. A
 * settlement that comes after the greenlet moved on (killed, timed out) is ignored.
 * @throws the rejection; {@link Timeout}; HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
 * @example
 * ```ts
 * const response = yield* waitPromise(fetch(url), 5000);
 * const body = yield* waitPromise(response.text());
 * ```
 */
export function waitPromise<T>(promise: PromiseLike<T> | T, timeout?: number): Blocking<Awaited<T>> {
  const greenlet = currentGreenlet('waitPromise()');
  return waitFor(greenlet, promise, checkTimeout('timeout', timeout));
}

function* waitFor<T>(greenlet: Greenlet, promise: PromiseLike<T> | T, timeout: number | undefined): Generator<SwitchToken, Awaited<T>, unknown> {
  const hub = greenlet.hub;
  const token = greenlet.token;
  const slot = hub.acquireTimer(timeout ?? FOREVER, promiseTimedOut, greenlet, token);
  Promise.resolve(promise).then(
    (value) => hub.schedule(resumeEntry, greenlet, token, value),
    (error: unknown) => hub.schedule(throwEntry, greenlet, token, error),
  );
  try {
    const value = yield* suspend();
    if (value === TIMED_OUT) throw new Timeout(timeout, undefined, `the promise did not settle within ${String(timeout)} ms`);
    return value as Awaited<T>;
  } finally {
    hub.releaseTimer(slot);
  }
}

function promiseTimedOut(greenlet: unknown, token: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.resume(g, token as number, TIMED_OUT);
}
