/**
 * The one way a hub greenlet blocks: switch to the main greenlet (the hub), and come back when
 * the hub resumes it. Every primitive of the package is built on these few functions.
 *
 * Wake-ups are guarded by the greenlet's `token`: whoever means to wake a waiter records the
 * token the waiter had when it began to wait, and the hub resumes it only if the token is
 * unchanged. Every resume made by the hub (and the greenlet's death) moves the token on, so a
 * wake-up that arrives after its waiter moved on (killed, timed out, woken by something else)
 * is ignored: no waiter is ever resumed at the wrong place.
 */
import type { SwitchToken } from '@loop/greenlet';
import { getcurrent, getmain } from '@loop/greenlet';
import { HubError } from './errors.js';
import { Greenlet } from './greenlet.js';
import type { Hub } from './hub.js';

/**
 * What a blocking call returns: consume it with `yield*` inside a greenlet, and the `yield*`
 * evaluates to `T` once the call is done (`const item = yield* queue.get()`). Every function
 * between the greenlet's body and the call must itself be a generator called with `yield*`
 * (`@loop/greenlet`'s one rule).
 */
export type Blocking<T> = Iterable<SwitchToken, T, unknown>;

/** The main greenlet: the hub runs in it (every loop callback is main code). */
export const MAIN = getmain();

/** Passed to a waiter whose timer went off first. A private symbol: no value can collide. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * The hub greenlet running this code, which a blocking call is about to suspend.
 * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside every greenlet (main code, loop callbacks),
 *   `ERR_HUB_RAW_GREENLET` in a greenlet the hub did not spawn
 */
export function currentGreenlet(what: string): Greenlet {
  const current = getcurrent();
  if (current instanceof Greenlet) return current;
  if (current === MAIN) {
    throw new HubError(
      'ERR_BLOCKING_IN_CALLBACK',
      `${what} can block (or acts for the running greenlet), so it needs a greenlet, and this is main code ` +
        'or a loop callback: spawn a greenlet (hub.spawn, or run the program with hub.run) and call it there with yield*.',
    );
  }
  throw new HubError(
    'ERR_HUB_RAW_GREENLET',
    `${what} was called in a greenlet that no hub spawned: only greenlets spawned by a hub (hub.spawn, spawn) can block on it`,
  );
}

/**
 * The hub of the running hub greenlet.
 * @throws HubError `ERR_HUB_NO_CURRENT_HUB` outside every hub greenlet
 */
export function currentHub(what: string): Hub {
  const current = getcurrent();
  if (current instanceof Greenlet) return current.hub;
  throw new HubError(
    'ERR_HUB_NO_CURRENT_HUB',
    `${what} outside a hub greenlet needs to be told which hub to use: call it on a hub (getHub(loop).${what.replace(/\(.*$/, '')}(...))`,
  );
}

/**
 * Suspend the running greenlet until the hub resumes it; the `yield*` evaluates to the value it
 * is resumed with, or throws what is thrown into it. Nothing is registered here: the caller has
 * already told someone how to wake it.
 */
export function suspend(): Blocking<unknown> {
  return MAIN.switch() as Blocking<unknown>;
}

/**
 * {@link suspend}, with a timer that resumes the greenlet with {@link TIMED_OUT} after `timeout`
 * ms (none when `undefined`). The timer is stopped in `finally`, on every way out: a wake-up,
 * a kill, an exception (gevent's `WaitOperationsGreenlet.wait`).
 */
export function* suspendFor(greenlet: Greenlet, timeout: number | undefined): Generator<SwitchToken, unknown, unknown> {
  if (timeout === undefined) return yield* suspend();
  const slot = greenlet.hub.acquireTimer(timeout, wakeTimedOut, greenlet, greenlet.token);
  try {
    return yield* suspend();
  } finally {
    greenlet.hub.releaseTimer(slot);
  }
}

/** Timer callback of {@link suspendFor}: resume the waiter with {@link TIMED_OUT}. */
function wakeTimedOut(greenlet: unknown, token: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.resume(g, token as number, TIMED_OUT);
}

/** Hub queue entry: resume `greenlet` with `value` if it still waits with `token`. */
export function resumeEntry(greenlet: unknown, token: unknown, value: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.resume(g, token as number, value);
}

/** Hub queue entry: raise `error` in `greenlet` if it still waits with `token`. */
export function throwEntry(greenlet: unknown, token: unknown, error: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.resumeThrow(g, token as number, error);
}

// Already-finished blocking calls: shared, immutable iterables, so a call that need not wait
// (an event already set, a lock free) allocates nothing.
/** A blocking call that is already done with `value` (frozen, so it can be shared). */
export function finished<T>(value: T): Blocking<T> {
  const result: IteratorReturnResult<T> = Object.freeze({ value, done: true as const });
  const iterator: Iterator<SwitchToken, T, unknown> = Object.freeze({ next: () => result });
  return Object.freeze({ [Symbol.iterator]: () => iterator });
}

/** A blocking call that is already done: `yield*` on it evaluates to `undefined` at once. */
export const NOTHING: Blocking<undefined> = finished(undefined);
/** A blocking call that is already done with `true`. */
export const TRUE: Blocking<true> = finished(true);
