import type { SwitchToken } from '@loop/greenlet';
import type { Greenlet, GreenletBody } from './greenlet.js';
import type { GroupBase } from './group.js';
import type { Hub } from './hub.js';
import { currentGreenlet, suspend, type Blocking } from './waiting.js';
import { WaiterList } from './waiters.js';

/**
 * The results of a group's `imap` or `imapUnordered`, one at a time:
 * `const r = yield* results.next()` evaluates to `{ value, done: false }` for each result and to
 * `{ value: undefined, done: true }` at the end. (A `for...of` cannot block between items, so
 * iteration is written with `next()`.)
 *
 * A feeder greenlet spawns one member per item, as the group has room; results are kept until
 * read. The first failed item (in the order results are delivered) raises its exception from
 * `next()` and ends the iteration; members already running go on (kill the group to stop them).
 *
 * @example
 * ```ts
 * const results = pool.imap(fetchPage, urls);
 * for (let r = yield* results.next(); !r.done; r = yield* results.next()) console.log(r.value);
 * ```
 */
export class ResultIterator<R> {
  readonly #ordered: boolean;
  readonly #feeder: Greenlet;
  // Ordered: finished members by item index. Unordered: finished members in completion order.
  readonly #byIndex = new Map<number, Greenlet>();
  readonly #indexOf = new Map<Greenlet, number>();
  #arrived: Greenlet[] = [];
  #delivered = 0;
  #spawned = 0;
  #feeding = true;
  #feedError: { error: unknown } | undefined = undefined;
  #ended = false;
  readonly #consumers = new WaiterList();

  /** @internal Created by `GroupBase.imap`. */
  constructor(hub: Hub, group: GroupBase, fn: GreenletBody, items: Iterable<unknown>, ordered: boolean) {
    this.#ordered = ordered;
    this.#feeder = hub.spawn(function* feed(this: void, results: ResultIterator<R>) {
      yield* results.#feed(group, fn, items);
    }, this);
    this.#feeder.link(this.#feederDone);
    group.addFeeder(this.#feeder);
  }

  *#feed(group: GroupBase, fn: GreenletBody, items: Iterable<unknown>): Generator<SwitchToken, void, unknown> {
    for (const item of items) {
      const member = yield* group.spawnMember(fn, [item]) as Iterable<SwitchToken, Greenlet, unknown>;
      this.#indexOf.set(member, this.#spawned++);
      member.link(this.#memberDone);
    }
  }

  readonly #memberDone = (member: Greenlet): void => {
    const index = this.#indexOf.get(member) as number;
    this.#indexOf.delete(member);
    if (this.#ordered) this.#byIndex.set(index, member);
    else this.#arrived.push(member);
    this.#wake();
  };

  readonly #feederDone = (feeder: Greenlet): void => {
    this.#feeding = false;
    if (!feeder.successful) this.#feedError = { error: feeder.exception };
    this.#wake();
  };

  #wake(): void {
    const consumer = this.#consumers.shift();
    if (consumer !== undefined) consumer.hub.resume(consumer, this.#consumers.token, true);
  }

  /**
   * The next result: evaluates to `{ value, done: false }`, or `{ done: true }` once every item's
   * result was read (or the iteration ended).
   * @throws the exception of the item's greenlet, or of the items' iterator; HubError
   *   `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  next(): Blocking<IteratorResult<R, undefined>> {
    const consumer = currentGreenlet('ResultIterator.next()');
    return this.#next(consumer);
  }

  *#next(consumer: Greenlet): Generator<SwitchToken, IteratorResult<R, undefined>, unknown> {
    for (;;) {
      if (this.#ended) return { value: undefined, done: true };
      const member = this.#take();
      if (member !== undefined) {
        if (!member.successful) {
          this.close();
          throw member.exception;
        }
        return { value: member.value as R, done: false };
      }
      if (this.#feedError !== undefined) {
        this.close();
        throw this.#feedError.error;
      }
      if (!this.#feeding && this.#delivered === this.#spawned) {
        this.#ended = true;
        return { value: undefined, done: true };
      }
      this.#consumers.add(consumer);
      yield* suspend(); // woken by a member's end or the feeder's
    }
  }

  #take(): Greenlet | undefined {
    let member: Greenlet | undefined;
    if (this.#ordered) {
      member = this.#byIndex.get(this.#delivered);
      if (member !== undefined) this.#byIndex.delete(this.#delivered);
    } else {
      member = this.#arrived.shift();
    }
    if (member !== undefined) this.#delivered++;
    return member;
  }

  /** End the iteration: spawn no more members (those running go on). Safe anywhere. */
  close(): void {
    this.#ended = true;
    this.#feeder.kill(undefined, { block: false });
  }
}
