import type { SwitchToken } from '@loop/greenlet';
import type { Greenlet } from './greenlet.js';
import { TIMED_OUT, suspendFor } from './waiting.js';
import { WaiterList } from './waiters.js';

/**
 * The waiters of a condition that wakes all of them at once (an `Event` being set, an
 * `AsyncResult` getting its value, a `Group` becoming empty).
 *
 * `wakeAll()` takes the greenlets waiting at that moment and resumes them from the hub's next
 * drain, each with `true`; greenlets that begin to wait after it are not woken by it (the
 * semantics of `threading.Event.set`). It never switches itself, so it is safe anywhere: in a
 * greenlet, in a loop callback, in main code.
 */
export class Broadcast {
  readonly #waiters = new WaiterList();
  /** Taken by wakeAll, to be resumed by the scheduled notification (flat greenlet/token/payload). */
  #woken: unknown[] | undefined = undefined;

  /** Register `greenlet` (about to suspend) to be woken by the next {@link Broadcast.wakeAll}. */
  add(greenlet: Greenlet): void {
    this.#waiters.add(greenlet);
  }

  /**
   * Register `greenlet` and wait, at most `timeout` ms (none when `undefined`). Evaluates to
   * `true` when woken, `false` on timeout. A kill leaves nothing behind: the registration goes
   * stale and the timer is stopped.
   */
  *wait(greenlet: Greenlet, timeout: number | undefined): Generator<SwitchToken, boolean, unknown> {
    this.#waiters.add(greenlet);
    return (yield* suspendFor(greenlet, timeout)) !== TIMED_OUT;
  }

  /** Wake every greenlet waiting now, from the hub's next drain. */
  wakeAll(): void {
    if (this.#waiters.empty) return;
    const batch = this.#waiters.takeAll();
    const woken = this.#woken;
    if (woken !== undefined) {
      // A notification is already queued: ride along with it.
      for (let i = 0; i < batch.length; i++) woken.push(batch[i]);
      return;
    }
    this.#woken = batch;
    (batch[0] as Greenlet).hub.schedule(notifyEntry, this, undefined, undefined);
  }

  /** @internal Resume the greenlets taken by wakeAll (hub, main code), in the order they came. */
  notify(): void {
    const batch = this.#woken;
    this.#woken = undefined;
    if (batch === undefined) return;
    for (let i = 0; i < batch.length; i += 3) {
      const greenlet = batch[i] as Greenlet;
      greenlet.hub.resume(greenlet, batch[i + 1] as number, true);
    }
  }
}

function notifyEntry(broadcast: unknown): void {
  (broadcast as Broadcast).notify();
}
