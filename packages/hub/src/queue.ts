import type { SwitchToken } from '@loop/greenlet';
import { Broadcast } from './broadcast.js';
import { HubError, InvalidArgumentError, checkFunction, checkOptions, checkTimeout } from './errors.js';
import type { Greenlet } from './greenlet.js';
import type { Hub } from './hub.js';
import { TRUE, TIMED_OUT, currentGreenlet, suspendFor, type Blocking } from './waiting.js';
import { WaiterList } from './waiters.js';

/** Options of a blocking `put` or `get`. */
export interface QueueOptions {
  /** Wait for room (or an item) when there is none (the default); otherwise fail at once. */
  block?: boolean;
  /** Wait at most this many ms, then fail with `ERR_HUB_FULL` (put) or `ERR_HUB_EMPTY` (get). */
  timeout?: number;
}

function checkMaxsize(maxsize: number | null | undefined): number {
  if (maxsize === undefined || maxsize === null || maxsize === Infinity) return Infinity;
  if (maxsize === 0) throw new InvalidArgumentError('maxsize must be at least 1 (or Infinity); for a queue that holds no item, use a Channel');
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize) || maxsize < 1) {
    throw new InvalidArgumentError(`maxsize must be an integer >= 1 or Infinity, got ${String(maxsize)}`);
  }
  return maxsize;
}

/**
 * What the queues share: a bounded or unbounded store, greenlets waiting to get and to put, and
 * unfinished-task counting (`taskDone`/`join`). Subclasses decide the order (FIFO, LIFO, priority).
 *
 * Waiters are served in arrival order: a getter woken because an item arrived takes it itself
 * when it runs (the hub switches to it at once, so nobody can take it in between), so an item
 * never leaves the queue for a greenlet that is gone. A getter killed or timed out while waiting
 * leaves no trace: the next item goes to the next getter, or stays in the queue.
 */
abstract class AbstractQueue<T> {
  /** The most items the queue holds (`Infinity`: unbounded). */
  readonly maxsize: number;
  readonly #getters = new WaiterList();
  readonly #putters = new WaiterList();
  #unlocking = false;
  #unfinished = 0;
  readonly #allDone = new Broadcast();

  constructor(maxsize: number | null | undefined) {
    this.maxsize = checkMaxsize(maxsize);
  }

  /** Number of items stored. */
  protected abstract count(): number;
  /** Store one item. */
  protected abstract store(item: T): void;
  /** Take the next item out (the store is not empty). */
  protected abstract take(): T;

  /** @internal Fill the store from a constructor's `items` (they count as unfinished tasks). */
  protected fill(items: Iterable<T> | undefined): void {
    if (items === undefined) return;
    for (const item of items) {
      if (this.count() >= this.maxsize) throw new InvalidArgumentError(`more items than maxsize (${this.maxsize})`);
      this.store(item);
      this.#unfinished++;
    }
  }

  /** Number of items in the queue. */
  qsize(): number {
    return this.count();
  }

  /** `true` when the queue holds no item. */
  empty(): boolean {
    return this.count() === 0;
  }

  /** `true` when the queue holds `maxsize` items. */
  full(): boolean {
    return this.count() >= this.maxsize;
  }

  /** Items put and not yet marked done with {@link AbstractQueue.taskDone}. */
  get unfinishedTasks(): number {
    return this.#unfinished;
  }

  /**
   * Put `item` in, waiting for room if the queue is full (unless `block` is false), at most
   * `timeout` ms if given.
   * @throws HubError `ERR_HUB_FULL` when there is no room in time (or at once without `block`);
   *   `ERR_BLOCKING_IN_CALLBACK` outside a greenlet (use {@link AbstractQueue.putNowait} there)
   */
  put(item: T, options?: QueueOptions): Blocking<void> {
    const greenlet = currentGreenlet('Queue.put()');
    checkOptions('options', options);
    return this.#put(greenlet, item, options?.block ?? true, checkTimeout('options.timeout', options?.timeout));
  }

  *#put(greenlet: Greenlet, item: T, block: boolean, timeout: number | undefined): Generator<SwitchToken, void, unknown> {
    // Room, and nobody waiting for it before us: put at once.
    if (this.count() < this.maxsize && this.#putters.peek() === undefined) {
      this.#store(item, greenlet.hub);
      return;
    }
    if (!block) throw fullError(this.maxsize);
    this.#putters.add(greenlet);
    if (this.count() < this.maxsize) this.#scheduleUnlock(greenlet.hub);
    if ((yield* suspendFor(greenlet, timeout)) === TIMED_OUT) throw fullError(this.maxsize, timeout);
    // Woken by the unlock because there is room, and switched to at once: it is still there.
    this.#store(item, greenlet.hub);
  }

  /**
   * Put `item` in without waiting: safe anywhere, main code and loop callbacks included (a
   * callback feeding greenlets uses this).
   * @throws HubError `ERR_HUB_FULL` when the queue is full
   */
  putNowait(item: T): void {
    if (this.count() >= this.maxsize) throw fullError(this.maxsize);
    this.#store(item, undefined);
  }

  #store(item: T, hub: Hub | undefined): void {
    this.store(item);
    this.#unfinished++;
    const getter = this.#getters.peek();
    if (getter !== undefined) this.#scheduleUnlock(hub ?? getter.hub);
  }

  /**
   * Take the next item out, waiting for one if the queue is empty (unless `block` is false), at
   * most `timeout` ms if given.
   * @throws HubError `ERR_HUB_EMPTY` when no item comes in time (or at once without `block`);
   *   `ERR_BLOCKING_IN_CALLBACK` outside a greenlet (use {@link AbstractQueue.getNowait} there)
   */
  get(options?: QueueOptions): Blocking<T> {
    const greenlet = currentGreenlet('Queue.get()');
    checkOptions('options', options);
    return this.#get(greenlet, options?.block ?? true, checkTimeout('options.timeout', options?.timeout));
  }

  *#get(greenlet: Greenlet, block: boolean, timeout: number | undefined): Generator<SwitchToken, T, unknown> {
    if (this.count() > 0 && this.#getters.peek() === undefined) return this.#take(greenlet.hub);
    if (!block) throw emptyError();
    this.#getters.add(greenlet);
    if (this.count() > 0) this.#scheduleUnlock(greenlet.hub);
    if ((yield* suspendFor(greenlet, timeout)) === TIMED_OUT) throw emptyError(timeout);
    // Woken by the unlock because an item is there, and switched to at once: it still is.
    return this.#take(greenlet.hub);
  }

  /**
   * Take the next item out without waiting: safe anywhere.
   * @throws HubError `ERR_HUB_EMPTY` when the queue is empty
   */
  getNowait(): T {
    if (this.count() === 0) throw emptyError();
    return this.#take(undefined);
  }

  #take(hub: Hub | undefined): T {
    const item = this.take();
    const putter = this.#putters.peek();
    if (putter !== undefined) this.#scheduleUnlock(hub ?? putter.hub);
    return item;
  }

  #scheduleUnlock(hub: Hub): void {
    if (this.#unlocking) return;
    this.#unlocking = true;
    hub.schedule(unlockEntry, this, undefined, undefined);
  }

  /**
   * @internal In the hub (main code): hand room to waiting putters and items to waiting getters,
   * in arrival order, switching to each at once so that what it was woken for is still there.
   */
  unlock(): void {
    this.#unlocking = false;
    for (;;) {
      let progressed = false;
      if (this.count() < this.maxsize) {
        const putter = this.#putters.shift();
        if (putter !== undefined) {
          putter.hub.resume(putter, this.#putters.token, true);
          progressed = true;
        }
      }
      if (this.count() > 0) {
        const getter = this.#getters.shift();
        if (getter !== undefined) {
          getter.hub.resume(getter, this.#getters.token, true);
          progressed = true;
        }
      }
      if (!progressed) return;
    }
  }

  /**
   * Mark one item taken with `get` as processed; when every item put is, `join()` returns.
   * @throws HubError `ERR_HUB_TASK_DONE` when called more times than items were put
   */
  taskDone(): void {
    if (this.#unfinished <= 0) throw new HubError('ERR_HUB_TASK_DONE', 'taskDone() was called more times than items were put');
    if (--this.#unfinished === 0) this.#allDone.wakeAll();
  }

  /**
   * Wait until every item put has been marked done with `taskDone()`, at most `timeout` ms if
   * given. Evaluates to `true` when they all are, `false` on timeout.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  join(timeout?: number): Blocking<boolean> {
    const greenlet = currentGreenlet('Queue.join()');
    const limit = checkTimeout('timeout', timeout);
    if (this.#unfinished === 0) return TRUE;
    return this.#join(greenlet, limit);
  }

  *#join(greenlet: Greenlet, timeout: number | undefined): Generator<SwitchToken, boolean, unknown> {
    yield* this.#allDone.wait(greenlet, timeout);
    return this.#unfinished === 0;
  }
}

function unlockEntry(queue: unknown): void {
  (queue as AbstractQueue<unknown>).unlock();
}

function fullError(maxsize: number, timeout?: number): HubError<'ERR_HUB_FULL'> {
  return new HubError('ERR_HUB_FULL', `the queue is full (${maxsize} items)${timeout === undefined ? '' : ` for ${timeout} ms`}`);
}

function emptyError(timeout?: number): HubError<'ERR_HUB_EMPTY'> {
  return new HubError('ERR_HUB_EMPTY', `the queue is empty${timeout === undefined ? '' : ` for ${timeout} ms`}`);
}

/**
 * gevent's `Queue` (a joinable FIFO queue): bounded when `maxsize` is given, unbounded
 * otherwise. `put`/`get` block in greenlets; `putNowait`/`getNowait` work anywhere.
 *
 * @example
 * ```ts
 * const jobs = new Queue<string>(100);
 * spawn(function* () { for (;;) { handle(yield* jobs.get()); jobs.taskDone(); } });
 * yield* jobs.put('a');
 * yield* jobs.join();      // until every job is done
 * ```
 */
export class Queue<T = unknown> extends AbstractQueue<T> {
  // A ring would be faster to shift than an array; a head index with periodic trimming is as
  // good in practice and simpler.
  #items: T[] = [];
  #head = 0;

  /**
   * @param maxsize - the most items it holds; `undefined`, `null` or `Infinity`: unbounded
   * @param items - initial items (each counts as an unfinished task)
   * @throws InvalidArgumentError for a bad `maxsize` (0 included: use a {@link Channel})
   */
  constructor(maxsize?: number | null, items?: Iterable<T>) {
    super(maxsize);
    this.fill(items);
  }

  protected count(): number {
    return this.#items.length - this.#head;
  }

  protected store(item: T): void {
    this.#items.push(item);
  }

  protected take(): T {
    const items = this.#items;
    const item = items[this.#head] as T;
    items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/** gevent's `LifoQueue`: a {@link Queue} whose `get` takes the item put last. */
export class LifoQueue<T = unknown> extends AbstractQueue<T> {
  #items: T[] = [];

  /** @see Queue's constructor */
  constructor(maxsize?: number | null, items?: Iterable<T>) {
    super(maxsize);
    this.fill(items);
  }

  protected count(): number {
    return this.#items.length;
  }

  protected store(item: T): void {
    this.#items.push(item);
  }

  protected take(): T {
    return this.#items.pop() as T;
  }
}

/** How a {@link PriorityQueue} orders items: negative when `a` comes first. */
export type Compare<T> = (a: T, b: T) => number;

function naturalOrder<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * gevent's `PriorityQueue`: a {@link Queue} whose `get` takes the smallest item, by `compare`
 * (default: `<`, for numbers and strings; pass one for objects, such as
 * `(a, b) => a.priority - b.priority`). Items that compare equal come out in no set order.
 */
export class PriorityQueue<T = unknown> extends AbstractQueue<T> {
  readonly #heap: T[] = [];
  readonly #compare: Compare<T>;

  /**
   * @param maxsize - as for {@link Queue}
   * @param items - initial items
   * @param compare - the order; default `<`
   */
  constructor(maxsize?: number | null, items?: Iterable<T>, compare: Compare<T> = naturalOrder) {
    super(maxsize);
    checkFunction('compare', compare);
    this.#compare = compare;
    this.fill(items);
  }

  protected count(): number {
    return this.#heap.length;
  }

  protected store(item: T): void {
    const heap = this.#heap;
    let at = heap.length;
    heap.push(item);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.#compare(item, heap[parent] as T) >= 0) break;
      heap[at] = heap[parent] as T;
      at = parent;
    }
    heap[at] = item;
  }

  protected take(): T {
    const heap = this.#heap;
    const top = heap[0] as T;
    const last = heap.pop() as T;
    if (heap.length > 0) {
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && this.#compare(heap[right] as T, heap[left] as T) < 0 ? right : left;
        if (this.#compare(heap[child] as T, last) >= 0) break;
        heap[at] = heap[child] as T;
        at = child;
      }
      heap[at] = last;
    }
    return top;
  }
}
