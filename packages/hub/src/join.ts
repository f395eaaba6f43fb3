import { GreenletExit, type SwitchToken } from '@loop/greenlet';
import { InvalidArgumentError, checkOptions, checkSize, checkTimeout } from './errors.js';
import { Greenlet, type KillOptions } from './greenlet.js';
import { Timeout } from './timeout.js';
import { NOTHING, currentGreenlet, suspendFor, type Blocking } from './waiting.js';

/** Options of {@link joinall}. */
export interface JoinAllOptions {
  /** Wait at most this many ms; evaluates to the greenlets finished by then. */
  timeout?: number;
  /** Raise the exception of the first greenlet seen failing, as soon as it is seen. */
  raiseError?: boolean;
  /** Return once this many have finished. */
  count?: number;
}

function checkGreenlets(greenlets: Iterable<Greenlet>, what: string): Greenlet[] {
  if (greenlets === null || typeof greenlets !== 'object' || typeof (greenlets as Iterable<Greenlet>)[Symbol.iterator] !== 'function') {
    throw new InvalidArgumentError(`${what} needs an iterable of greenlets`);
  }
  const list = [...greenlets];
  for (const greenlet of list) {
    if (!(greenlet instanceof Greenlet)) throw new InvalidArgumentError(`${what} needs hub greenlets, got ${typeof greenlet}`);
  }
  return list;
}

/**
 * Wait until the greenlets have finished (gevent's `joinall`): all of them, or `count`, or what
 * finishes within `timeout` ms. Evaluates to the finished greenlets: those already finished, in
 * the order given, then the others in the order they finished. With `raiseError`, the exception
 * of a failed greenlet is raised as soon as it is seen.
 * @throws the first failure with `raiseError`; HubError `ERR_BLOCKING_IN_CALLBACK` outside a
 *   greenlet; InvalidArgumentError for bad arguments
 * @example
 * ```ts
 * const done = yield* joinall([a, b, c], { timeout: 1000 });
 * ```
 */
export function joinall<G extends Greenlet>(greenlets: Iterable<G>, options?: JoinAllOptions): Blocking<G[]> {
  const waiter = currentGreenlet('joinall()');
  const list = checkGreenlets(greenlets, 'joinall()') as G[];
  checkOptions('options', options);
  const timeout = checkTimeout('options.timeout', options?.timeout);
  const count = options?.count === undefined ? list.length : Math.min(checkSize('options.count', options.count, 0), list.length);
  return joinGreenlets(waiter, list, timeout, options?.raiseError ?? false, count);
}

/** @internal joinall's body, also used by killall. */
export function* joinGreenlets<G extends Greenlet>(
  waiter: Greenlet,
  list: G[],
  timeout: number | undefined,
  raiseError: boolean,
  count: number,
): Generator<SwitchToken, G[], unknown> {
  const done: G[] = [];
  const pending: G[] = [];
  for (const greenlet of list) {
    if (!greenlet.ready) pending.push(greenlet);
    else if (raiseError && !greenlet.successful) throw greenlet.exception;
    else done.push(greenlet);
  }
  if (done.length >= count || pending.length === 0) return done;
  const hub = waiter.hub;
  const token = waiter.token;
  let waiting = true;
  // One callback for all of them (run in the hub as each finishes): it counts, and wakes us
  // once enough have finished, or at the first failure with raiseError.
  const finished = (greenlet: Greenlet): void => {
    if (!waiting) return;
    done.push(greenlet as G);
    if (raiseError && !greenlet.successful) {
      waiting = false;
      hub.resumeThrow(waiter, token, greenlet.exception);
    } else if (done.length >= count) {
      waiting = false;
      hub.resume(waiter, token, true);
    }
  };
  for (const greenlet of pending) greenlet.link(finished);
  try {
    yield* suspendFor(waiter, timeout);
  } finally {
    waiting = false;
    for (const greenlet of pending) greenlet.unlink(finished);
  }
  return done;
}

/**
 * Kill the greenlets (gevent's `killall`): raise `exception` (default: one {@link GreenletExit}
 * for all) in each, from the hub's next drain; greenlets not started yet never run. With
 * `block` (the default) wait until all are dead, at most `timeout` ms.
 * @throws {@link Timeout} when some are still alive after `timeout`; HubError
 *   `ERR_BLOCKING_IN_CALLBACK` with `block` outside a greenlet
 */
export function killall(greenlets: Iterable<Greenlet>, exception?: unknown, options?: KillOptions): Blocking<void> {
  checkOptions('options', options);
  const block = options?.block ?? true;
  const waiter = block ? currentGreenlet('killall()') : undefined;
  const list = checkGreenlets(greenlets, 'killall()');
  const timeout = checkTimeout('options.timeout', options?.timeout);
  const error = exception === undefined ? new GreenletExit() : exception;
  const dying = list.filter((greenlet) => greenlet.killSoon(error));
  if (waiter === undefined || dying.length === 0) return NOTHING;
  return waitDead(waiter, dying, timeout);
}

function* waitDead(waiter: Greenlet, dying: Greenlet[], timeout: number | undefined): Generator<SwitchToken, void, unknown> {
  const done = yield* joinGreenlets(waiter, dying, timeout, false, dying.length);
  if (done.length < dying.length) throw new Timeout(timeout, undefined, `${dying.length - done.length} greenlets still alive after ${String(timeout)} ms`);
}
