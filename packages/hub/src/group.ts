import { GreenletExit, type SwitchToken } from '@loop/greenlet';
import { Broadcast } from './broadcast.js';
import { InvalidArgumentError, checkFunction, checkOptions, checkSize, checkTimeout } from './errors.js';
import { Greenlet, type GreenletBody, type GreenletResult, type KillOptions } from './greenlet.js';
import type { Hub } from './hub.js';
import { ResultIterator } from './imap.js';
import { Semaphore } from './lock.js';
import { Timeout } from './timeout.js';
import { NOTHING, TRUE, currentGreenlet, currentHub, finished, type Blocking } from './waiting.js';

/** Options of `join` on a group. */
export interface GroupJoinOptions {
  /** Wait at most this many ms; evaluates to `false` if members are left then. */
  timeout?: number;
  /** Once empty, raise the exception of the first member (of those there when the join began) that failed. */
  raiseError?: boolean;
}

/**
 * What {@link Group} and {@link Pool} share (gevent's `Group`): a set of greenlets that leave it
 * when they finish, which can be joined, killed, and mapped over.
 */
export abstract class GroupBase implements Iterable<Greenlet> {
  readonly #members = new Set<Greenlet>();
  readonly #feeders = new Set<Greenlet>();
  readonly #empty = new Broadcast();
  // Woken at every discard: what kill() waits on, so that it can kill members spawned meanwhile.
  readonly #shrunk = new Broadcast();
  readonly #hub: Hub | undefined;
  readonly #discard = (greenlet: Greenlet): void => this.discard(greenlet);
  readonly #feederDone = (greenlet: Greenlet): void => void this.#feeders.delete(greenlet);

  /**
   * @param hub - the hub to spawn on from main code; inside a greenlet, its hub is used when omitted
   */
  constructor(hub?: Hub) {
    this.#hub = hub;
  }

  /** Number of members. */
  get length(): number {
    return this.#members.size;
  }

  /** Whether `greenlet` is a member. */
  has(greenlet: Greenlet): boolean {
    return this.#members.has(greenlet);
  }

  /** The members, in the order they joined. */
  [Symbol.iterator](): Iterator<Greenlet> {
    return this.#members.values();
  }

  /** The hub to spawn on: the one given to the constructor, else the running greenlet's. */
  protected hub(what: string): Hub {
    return this.#hub ?? currentHub(what);
  }

  /** Make `greenlet` a member until it finishes. */
  protected addMember(greenlet: Greenlet): void {
    if (!(greenlet instanceof Greenlet)) throw new InvalidArgumentError('only hub greenlets can join a group');
    if (this.#members.has(greenlet)) return;
    this.#members.add(greenlet);
    greenlet.link(this.#discard); // a finished greenlet is discarded in the hub's next drain
  }

  /**
   * Remove `greenlet` from the group (done by itself when a member finishes). Waiters of `join`
   * are woken when the group becomes empty.
   */
  discard(greenlet: Greenlet): void {
    if (!this.#members.delete(greenlet)) return;
    greenlet.unlink(this.#discard);
    this.discarded(greenlet);
    this.#shrunk.wakeAll();
    if (this.#members.size === 0) this.#empty.wakeAll();
  }

  /** Hook: `greenlet` left the group. */
  protected discarded(_greenlet: Greenlet): void {}

  /**
   * @internal Spawn `fn(...args)` as a member, waiting for room where the group is bounded.
   */
  abstract spawnMember(fn: GreenletBody, args: unknown[]): Blocking<Greenlet>;

  /** @internal Track an imap feeder, so that `kill` stops it too. */
  addFeeder(feeder: Greenlet): void {
    this.#feeders.add(feeder);
    feeder.link(this.#feederDone);
  }

  /**
   * Wait until the group is empty, at most `timeout` ms if given. Evaluates to `true` if it is.
   * @throws with `raiseError`, the exception of the first failed member; HubError
   *   `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  join(options?: GroupJoinOptions): Blocking<boolean> {
    const waiter = currentGreenlet('Group.join()');
    checkOptions('options', options);
    const timeout = checkTimeout('options.timeout', options?.timeout);
    if (this.#members.size === 0 && !options?.raiseError) return TRUE;
    return this.#join(waiter, timeout, options?.raiseError ?? false);
  }

  *#join(waiter: Greenlet, timeout: number | undefined, raiseError: boolean): Generator<SwitchToken, boolean, unknown> {
    const members = [...this.#members];
    if (this.#members.size > 0) yield* this.#empty.wait(waiter, timeout);
    if (raiseError) {
      for (const member of members) if (member.ready && !member.successful) throw member.exception;
    }
    return this.#members.size === 0;
  }

  /**
   * Kill every member (and stop the group's `imap` feeders), members spawned meanwhile too, and
   * with `block` (the default) wait until the group is empty, at most `timeout` ms. Each member
   * gets `exception` (default: one {@link GreenletExit}) once; their `finally` blocks run before
   * this returns, so a greenlet that owns a group and kills it while tearing down finishes after
   * its members.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` with `block` outside a greenlet
   */
  kill(exception?: unknown, options?: KillOptions): Blocking<void> {
    checkOptions('options', options);
    const block = options?.block ?? true;
    const waiter = block ? currentGreenlet('Group.kill()') : undefined;
    const timeout = checkTimeout('options.timeout', options?.timeout);
    const error = exception === undefined ? new GreenletExit() : exception;
    const dying = new Set<Greenlet>();
    this.#killMembers(error, dying);
    if (waiter === undefined || this.#members.size === 0) return NOTHING;
    return this.#killAndWait(waiter, error, dying, timeout);
  }

  #killMembers(error: unknown, dying: Set<Greenlet>): void {
    for (const feeder of this.#feeders) {
      if (!dying.has(feeder)) {
        dying.add(feeder);
        feeder.killSoon(error);
      }
    }
    for (const member of this.#members) {
      if (!dying.has(member)) {
        dying.add(member); // killed once: a second kill would interrupt its finally blocks
        member.killSoon(error);
      }
    }
  }

  *#killAndWait(waiter: Greenlet, error: unknown, dying: Set<Greenlet>, timeout: number | undefined): Generator<SwitchToken, void, unknown> {
    const timer = Timeout.startNew(timeout);
    try {
      // Not a wait for the group to be empty: a dying member may spawn a new one (in a finally
      // block), which must be killed too, so look again each time a member goes (gevent's loop
      // of kill-then-joinall over the current members).
      while (this.#members.size > 0) {
        yield* this.#shrunk.wait(waiter, undefined);
        this.#killMembers(error, dying); // members spawned while we waited
      }
    } catch (caught) {
      if (caught !== timer) throw caught;
    } finally {
      timer.cancel();
    }
  }

  /**
   * Run `fn(item)` in a member greenlet for each item (as many at once as the group allows) and
   * evaluate to the results, in the order of the items (gevent's `map`).
   * @throws the exception of the first item (in order) whose greenlet failed
   */
  map<I, F extends (item: I) => unknown>(fn: F, items: Iterable<I>): Blocking<GreenletResult<F>[]> {
    currentGreenlet('Group.map()');
    return collect(this.imap(fn, items));
  }

  /**
   * Like {@link GroupBase.map}, yielding the results one at a time, in the order of the items:
   * `const r = yield* it.next()` (gevent's `imap`). Items are spawned from a feeder greenlet as
   * the group has room.
   */
  imap<I, F extends (item: I) => unknown>(fn: F, items: Iterable<I>): ResultIterator<GreenletResult<F>> {
    return this.#startImap(fn, items, true);
  }

  /** Like {@link GroupBase.imap}, in the order the greenlets finish (gevent's `imap_unordered`). */
  imapUnordered<I, F extends (item: I) => unknown>(fn: F, items: Iterable<I>): ResultIterator<GreenletResult<F>> {
    return this.#startImap(fn, items, false);
  }

  #startImap<R>(fn: (item: never) => unknown, items: Iterable<unknown>, ordered: boolean): ResultIterator<R> {
    checkFunction('fn', fn);
    if (items === null || typeof items !== 'object' || typeof (items as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError('items must be iterable');
    }
    return new ResultIterator<R>(this.hub('imap()'), this, fn as GreenletBody, items, ordered);
  }
}

function* collect<R>(results: ResultIterator<R>): Generator<SwitchToken, R[], unknown> {
  const out: R[] = [];
  for (;;) {
    const next = yield* results.next();
    if (next.done === true) return out;
    out.push(next.value);
  }
}

/**
 * gevent's `Group`: an unbounded set of greenlets; `spawn` never blocks.
 *
 * @example
 * ```ts
 * const group = new Group();
 * try {
 *   for (const url of urls) group.spawn(fetchOne, url);
 *   yield* group.join();
 * } finally {
 *   yield* group.kill();  // on every way out: no member outlives this greenlet
 * }
 * ```
 */
export class Group extends GroupBase {
  /**
   * Spawn `fn(...args)` as a member (see `Hub.spawn`). From main code, the group must have
   * been given its hub.
   * @throws HubError `ERR_HUB_NO_CURRENT_HUB` from main code without a hub
   */
  spawn<F extends GreenletBody>(fn: F, ...args: Parameters<F>): Greenlet<GreenletResult<F>> {
    const greenlet = this.hub('Group.spawn()').spawn(fn, ...args);
    this.addMember(greenlet);
    return greenlet;
  }

  /** Make a greenlet a member (it leaves when it finishes). */
  add(greenlet: Greenlet): void {
    this.addMember(greenlet);
  }

  /** @internal */
  spawnMember(fn: GreenletBody, args: unknown[]): Blocking<Greenlet> {
    const greenlet = new Greenlet(this.hub('Group.spawn()'), fn, args).start();
    this.addMember(greenlet);
    return finished(greenlet);
  }
}

/**
 * gevent's `Pool`: a group of at most `size` members. `spawn` (and `add`) wait for room;
 * `trySpawn` does not, so main code and loop callbacks can use it.
 *
 * @example
 * ```ts
 * const pool = new Pool(10);
 * const pages = yield* pool.map(fetchPage, urls);  // 10 at a time
 * ```
 */
export class Pool extends GroupBase {
  /** The most members it holds. */
  readonly size: number;
  readonly #slots: Semaphore;

  /**
   * @param size - the most members at once (an integer >= 1)
   * @param hub - as for {@link Group}
   * @throws InvalidArgumentError for a bad size
   */
  constructor(size: number, hub?: Hub) {
    super(hub);
    this.size = checkSize('size', size, 1);
    this.#slots = new Semaphore(this.size);
  }

  /** Number of free places. */
  freeCount(): number {
    return this.#slots.counter;
  }

  /** `true` when no place is free. */
  full(): boolean {
    return this.#slots.counter <= 0;
  }

  /**
   * Wait until a place is free, at most `timeout` ms if given; evaluates to the places free then.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  waitAvailable(timeout?: number): Blocking<number> {
    return this.#slots.wait(timeout);
  }

  /**
   * Spawn `fn(...args)` as a member once a place is free (waiting for one in arrival order).
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet (there, use {@link Pool.trySpawn})
   */
  spawn<F extends GreenletBody>(fn: F, ...args: Parameters<F>): Blocking<Greenlet<GreenletResult<F>>> {
    return this.spawnMember(fn, args) as Blocking<Greenlet<GreenletResult<F>>>;
  }

  /**
   * Spawn `fn(...args)` as a member if a place is free now; `undefined` if not. Never blocks.
   * @throws HubError `ERR_HUB_NO_CURRENT_HUB` from main code without a hub
   */
  trySpawn<F extends GreenletBody>(fn: F, ...args: Parameters<F>): Greenlet<GreenletResult<F>> | undefined {
    const hub = this.hub('Pool.trySpawn()');
    checkFunction('fn', fn);
    hub.assertLive();
    if (!this.#slots.tryAcquire()) return undefined;
    const greenlet = hub.spawn(fn, ...args);
    this.addMember(greenlet);
    return greenlet;
  }

  /**
   * Make a greenlet (not started yet, or running) a member once a place is free.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  add(greenlet: Greenlet): Blocking<void> {
    currentGreenlet('Pool.add()');
    if (!(greenlet instanceof Greenlet)) throw new InvalidArgumentError('only hub greenlets can join a pool');
    if (this.has(greenlet) || greenlet.ready) return NOTHING;
    return this.#add(greenlet);
  }

  *#add(greenlet: Greenlet): Generator<SwitchToken, void, unknown> {
    yield* this.#slots.acquire();
    this.addMember(greenlet);
  }

  /** @internal */
  spawnMember(fn: GreenletBody, args: unknown[]): Blocking<Greenlet> {
    const waiter = currentGreenlet('Pool.spawn()');
    return this.#spawn(waiter.hub, fn, args);
  }

  *#spawn(hub: Hub, fn: GreenletBody, args: unknown[]): Generator<SwitchToken, Greenlet, unknown> {
    checkFunction('fn', fn);
    hub.assertLive();
    yield* this.#slots.acquire(); // a kill while waiting takes no place with it
    const greenlet = new Greenlet(hub, fn, args).start();
    this.addMember(greenlet);
    return greenlet;
  }

  protected override discarded(): void {
    this.#slots.release();
  }
}
