import type { SwitchToken } from '@loop/greenlet';
import { InvalidArgumentError, checkTimeout } from './errors.js';
import type { Greenlet } from './greenlet.js';
import { currentGreenlet, resumeEntry, suspend, type Blocking } from './waiting.js';

/**
 * Suspend the running greenlet for `ms` ms (gevent's `sleep`); other greenlets and the loop go on.
 *
 * `sleep(0)` (the default) lets every other greenlet that is ready run, then returns, before the
 * loop polls for I/O: the greenlet goes to the back of the hub's queue, which is drained in the
 * pending phase. It is not a 0 ms timer: a timer runs at the end of the iteration, after the
 * poll, so each `sleep(0)` would cost a whole loop iteration (and wait for I/O), where gevent's
 * costs one trip round the ready greenlets. A long run of ready greenlets still yields to the
 * loop after the hub's switch interval (5 ms), so I/O is never starved.
 *
 * `sleep(ms > 0)` starts a loop timer (timer phase); it is stopped if the greenlet is killed.
 * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet; InvalidArgumentError for a
 *   negative or non-finite `ms`
 * @example
 * ```ts
 * yield* sleep(100);  // 100 ms
 * yield* sleep();     // let the other ready greenlets run
 * ```
 */
export function sleep(ms?: number): Blocking<void> {
  const greenlet = currentGreenlet('sleep()');
  if (ms === undefined || ms === 0) {
    // Hot path (no generator, no allocation): queue our own resume, then switch to the hub.
    greenlet.hub.schedule(resumeEntry, greenlet, greenlet.token, undefined);
    return suspend() as Blocking<void>;
  }
  const delay = checkTimeout('ms', ms);
  if (delay === undefined) throw new InvalidArgumentError('ms must be a number of ms, got null');
  return sleepFor(greenlet, delay);
}

function* sleepFor(greenlet: Greenlet, ms: number): Generator<SwitchToken, void, unknown> {
  const slot = greenlet.hub.acquireTimer(ms, wakeSleeper, greenlet, greenlet.token);
  try {
    yield* suspend();
  } finally {
    greenlet.hub.releaseTimer(slot); // on every way out: woken, killed, interrupted by a Timeout
  }
}

function wakeSleeper(greenlet: unknown, token: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.resume(g, token as number, undefined);
}
