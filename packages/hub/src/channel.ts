import type { SwitchToken } from '@loop/greenlet';
import { HubError, checkOptions, checkTimeout } from './errors.js';
import type { Greenlet } from './greenlet.js';
import type { Hub } from './hub.js';
import type { QueueOptions } from './queue.js';
import { TIMED_OUT, currentGreenlet, resumeEntry, suspendFor, type Blocking } from './waiting.js';
import { WaiterList } from './waiters.js';

/**
 * gevent's `Channel`: a queue that holds no item. `put` waits until a greenlet `get`s its item
 * (a rendezvous), `get` until a greenlet `put`s one.
 *
 * An item changes hands in the hub: the getter is switched to at once with it, so an item is
 * never handed to a greenlet that is gone. A putter killed (or timed out) while it waits takes
 * its item back with it: the `put` raised, the item was not delivered. `block: false` waits no
 * longer than the hub's next drain (timeout 0, as gevent).
 *
 * @example
 * ```ts
 * const handoff = new Channel<string>();
 * spawn(function* () { yield* handoff.put('job'); console.log('taken'); });
 * const job = yield* handoff.get();
 * ```
 */
export class Channel<T = unknown> {
  readonly #getters = new WaiterList();
  // Each putter carries its item as the payload.
  readonly #putters = new WaiterList();
  #unlocking = false;

  /** Greenlets waiting to put minus greenlets waiting to get (O(n): for diagnostics). */
  get balance(): number {
    return this.#putters.count() - this.#getters.count();
  }

  /**
   * Hand `item` to a getter, waiting until one takes it, at most `timeout` ms if given.
   * @throws HubError `ERR_HUB_FULL` when no getter takes it in time; `ERR_BLOCKING_IN_CALLBACK`
   *   outside a greenlet
   */
  put(item: T, options?: QueueOptions): Blocking<void> {
    const greenlet = currentGreenlet('Channel.put()');
    checkOptions('options', options);
    const timeout = options?.block === false ? 0 : checkTimeout('options.timeout', options?.timeout);
    return this.#put(greenlet, item, timeout);
  }

  *#put(greenlet: Greenlet, item: T, timeout: number | undefined): Generator<SwitchToken, void, unknown> {
    this.#putters.add(greenlet, item);
    if (this.#getters.peek() !== undefined) this.#scheduleUnlock(greenlet.hub);
    if ((yield* suspendFor(greenlet, timeout)) === TIMED_OUT) {
      throw new HubError('ERR_HUB_FULL', `no greenlet took the item${timeout ? ` within ${timeout} ms` : ''}`);
    }
  }

  /**
   * Take an item from a putter, waiting for one, at most `timeout` ms if given.
   * @throws HubError `ERR_HUB_EMPTY` when none comes in time; `ERR_BLOCKING_IN_CALLBACK` outside
   *   a greenlet
   */
  get(options?: QueueOptions): Blocking<T> {
    const greenlet = currentGreenlet('Channel.get()');
    checkOptions('options', options);
    const timeout = options?.block === false ? 0 : checkTimeout('options.timeout', options?.timeout);
    return this.#get(greenlet, timeout);
  }

  *#get(greenlet: Greenlet, timeout: number | undefined): Generator<SwitchToken, T, unknown> {
    if (this.#getters.peek() === undefined) {
      const putter = this.#putters.shift();
      if (putter !== undefined) {
        // A putter is waiting: its item is ours now; it is released from the hub's next drain.
        const item = this.#putters.payload as T;
        putter.hub.schedule(resumeEntry, putter, this.#putters.token, undefined);
        return item;
      }
    }
    this.#getters.add(greenlet);
    if (this.#putters.peek() !== undefined) this.#scheduleUnlock(greenlet.hub);
    const received = yield* suspendFor(greenlet, timeout);
    if (received === TIMED_OUT) throw new HubError('ERR_HUB_EMPTY', `no greenlet put an item${timeout ? ` within ${timeout} ms` : ''}`);
    return received as T;
  }

  #scheduleUnlock(hub: Hub): void {
    if (this.#unlocking) return;
    this.#unlocking = true;
    hub.schedule(unlockEntry, this, undefined, undefined);
  }

  /** @internal In the hub: pair waiting getters with waiting putters, in arrival order. */
  unlock(): void {
    this.#unlocking = false;
    for (;;) {
      const getter = this.#getters.peek();
      if (getter === undefined) return;
      const putter = this.#putters.shift();
      if (putter === undefined) return;
      const item = this.#putters.payload;
      const putterToken = this.#putters.token;
      this.#getters.shift();
      getter.hub.resume(getter, this.#getters.token, item); // the getter has the item before anything else runs
      putter.hub.resume(putter, putterToken, undefined);
    }
  }
}

function unlockEntry(channel: unknown): void {
  (channel as Channel).unlock();
}
