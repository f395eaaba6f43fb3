// Queues, channels, semaphores and results beyond the basics: fairness to greenlets already
// waiting, hand-offs from main code, heap order under a seeded random load, and the state
// accessors gevent has (qsize, full, counter, ready, ...).
import { expect, it } from 'vitest';
import {
  AsyncResult,
  BoundedSemaphore,
  Channel,
  Event,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  RLock,
  Semaphore,
  joinall,
  sleep,
  spawn,
  getcurrent,
  type Greenlet,
  type HubError,
} from '../src/index.js';
import { describeHub, later } from './helpers.js';

/** A small seeded generator (mulberry32), so a failing order replays. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The code a blocking call fails with, or 'ok'. */
function* outcome(call: () => Iterable<unknown, unknown, unknown>): Generator<unknown, string, unknown> {
  try {
    yield* call() as Generator<unknown, unknown, unknown>;
    return 'ok';
  } catch (error) {
    return (error as HubError).code;
  }
}

describeHub('queue order and state', (t) => {
  it('gives a PriorityQueue\'s items out smallest first under a random mix of puts and gets (seed 11)', () => {
    const random = seeded(11);
    const queue = new PriorityQueue<number>(undefined, [50, 3, 77]);
    const model: number[] = [50, 3, 77];
    const got: number[] = [];
    const expected: number[] = [];
    for (let step = 0; step < 2000; step++) {
      if (model.length === 0 || random() < 0.6) {
        const item = Math.floor(random() * 100);
        queue.putNowait(item);
        model.push(item);
      } else {
        model.sort((a, b) => a - b);
        expected.push(model.shift() as number);
        got.push(queue.getNowait());
      }
    }
    model.sort((a, b) => a - b);
    while (!queue.empty()) got.push(queue.getNowait());
    expect(got).toEqual([...expected, ...model]);
  });

  it('orders a PriorityQueue of objects by the compare function given (seed 12)', () => {
    const random = seeded(12);
    const queue = new PriorityQueue<{ p: number }>(undefined, undefined, (a, b) => b.p - a.p);
    const priorities = Array.from({ length: 300 }, () => Math.floor(random() * 1000));
    for (const p of priorities) queue.putNowait({ p });
    const out: number[] = [];
    while (queue.qsize() > 0) out.push(queue.getNowait().p);
    expect(out).toEqual([...priorities].sort((a, b) => b - a));
  });

  it('orders strings by < in a PriorityQueue, equal items included', () => {
    const queue = new PriorityQueue<string>(undefined, ['pear', 'apple', 'fig', 'apple', 'kiwi', 'banana', 'fig']);
    const out: string[] = [];
    while (!queue.empty()) out.push(queue.getNowait());
    expect(out).toEqual(['apple', 'apple', 'banana', 'fig', 'fig', 'kiwi', 'pear']);
  });

  it('gives a LifoQueue\'s initial and later items out last first', () => {
    const queue = new LifoQueue<number>(4, [1, 2]);
    queue.putNowait(3);
    const out = [queue.getNowait(), queue.getNowait()];
    queue.putNowait(4);
    out.push(queue.getNowait(), queue.getNowait());
    expect([out, queue.empty(), queue.unfinishedTasks]).toEqual([[3, 2, 4, 1], true, 4]);
  });

  it('keeps first-in first-out order across thousands of items taken while more come in', () => {
    const queue = new Queue<number>();
    let next = 0;
    let expected = 0;
    const wrong: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1500; i++) queue.putNowait(next++);
      for (let i = 0; i < 1200; i++) {
        const item = queue.getNowait();
        if (item !== expected++) wrong.push(item);
      }
    }
    while (!queue.empty()) {
      const item = queue.getNowait();
      if (item !== expected++) wrong.push(item);
    }
    expect([wrong, expected, queue.qsize()]).toEqual([[], 7500, 0]);
  });

  it('reports qsize, empty and full as items come and go; an unbounded queue is never full', () => {
    const queue = new Queue<number>(2);
    const states: unknown[] = [];
    const look = (): number => states.push([queue.qsize(), queue.empty(), queue.full()]);
    look();
    queue.putNowait(1);
    look();
    queue.putNowait(2);
    look();
    queue.getNowait();
    look();
    const unbounded = new Queue<number>(undefined, [1, 2, 3]);
    expect(states).toEqual([
      [0, true, false],
      [1, false, false],
      [2, false, true],
      [1, false, false],
    ]);
    expect([unbounded.full(), unbounded.qsize()]).toEqual([false, 3]);
  });

  it('counts unfinished tasks from initial items and puts, down with each taskDone', () => {
    const queue = new Queue<number>(undefined, [1]);
    queue.putNowait(2);
    const counts = [queue.unfinishedTasks];
    queue.getNowait();
    queue.taskDone();
    counts.push(queue.unfinishedTasks);
    queue.getNowait();
    queue.taskDone();
    counts.push(queue.unfinishedTasks);
    expect(counts).toEqual([2, 1, 0]);
  });
});

describeHub('queue fairness and hand-offs', (t) => {
  it('lets no newcomer put into the room a get made while a putter was already waiting for it', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>(1, ['first']);
      const log: string[] = [];
      const waiting = spawn(function* () {
        yield* queue.put('waiting');
        log.push('waiting put');
      });
      yield* sleep(0);
      log.push(`got ${queue.getNowait()}`); // room now, but it is the waiting putter's
      log.push(`newcomer ${yield* outcome(() => queue.put('newcomer', { block: false }))}`);
      yield* waiting.join();
      log.push(`got ${queue.getNowait()}`);
      return log;
    });
    expect(value).toEqual(['got first', 'newcomer ERR_HUB_FULL', 'waiting put', 'got waiting']);
  });

  it('lets no newcomer get the item put while a getter was already waiting for it', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>();
      const log: string[] = [];
      const waiting = spawn(function* () {
        log.push(`waiting got ${yield* queue.get()}`);
      });
      yield* sleep(0);
      queue.putNowait('item');
      log.push(`newcomer ${yield* outcome(() => queue.get({ block: false }))}`);
      yield* waiting.join();
      return log;
    });
    expect(value).toEqual(['newcomer ERR_HUB_EMPTY', 'waiting got item']);
  });

  it('hands an item put from a loop callback to a waiting getter', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const queue = new Queue<string>();
      later(loop, 1, () => queue.putNowait('from the loop'));
      return yield* queue.get();
    });
    expect(value).toBe('from the loop');
  });

  it('makes room for a waiting putter when a loop callback takes an item', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const queue = new Queue<string>(1, ['old']);
      const taken: string[] = [];
      later(loop, 1, () => taken.push(queue.getNowait()));
      yield* queue.put('new');
      return [taken, queue.getNowait()];
    });
    expect(value).toEqual([['old'], 'new']);
  });

  it('serves a line of waiting putters and getters through a one-item queue in arrival order', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>(1);
      const log: string[] = [];
      const putters = [1, 2, 3, 4].map((n) =>
        spawn(function* () {
          yield* queue.put(n);
          log.push(`put ${n}`);
        }),
      );
      const getters = ['a', 'b', 'c', 'd'].map((name) =>
        spawn(function* () {
          log.push(`${name} got ${yield* queue.get()}`);
        }),
      );
      yield* joinall([...putters, ...getters]);
      return log.filter((line) => line.includes('got'));
    });
    expect(value).toEqual(['a got 1', 'b got 2', 'c got 3', 'd got 4']);
  });

  it('returns from join() at once when no task is unfinished, and false when the timeout comes first', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>();
      const log: string[] = [];
      spawn(function* () {
        log.push('other ran');
      });
      log.push(`idle join ${String(yield* queue.join())}`); // no switch: the other has not run
      queue.putNowait(1);
      log.push(`busy join ${String(yield* queue.join(1))}`);
      queue.getNowait();
      queue.taskDone();
      log.push(`after taskDone ${String(yield* queue.join(1))}`);
      return log;
    });
    expect(value).toEqual(['idle join true', 'other ran', 'busy join false', 'after taskDone true']);
  });

  it('wakes join() when the last task is done from a loop callback', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const queue = new Queue<number>(undefined, [1, 2]);
      later(loop, 1, () => {
        queue.getNowait();
        queue.taskDone();
        queue.getNowait();
        queue.taskDone();
      });
      const joined = yield* queue.join();
      return [joined, queue.unfinishedTasks];
    });
    expect(value).toEqual([true, 0]);
  });
});

describeHub('Channel hand-offs', (t) => {
  it('counts waiting putters as a positive balance and waiting getters as a negative one', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<number>();
      const balances = [channel.balance];
      const putters = [1, 2].map((n) => spawn(() => channel.put(n)));
      yield* sleep(0);
      balances.push(channel.balance);
      const got = [yield* channel.get(), yield* channel.get()];
      yield* joinall(putters);
      balances.push(channel.balance);
      const getters = [0, 1, 2].map(() => spawn(() => channel.get()));
      yield* sleep(0);
      balances.push(channel.balance);
      for (const n of [7, 8, 9]) yield* channel.put(n);
      yield* joinall(getters);
      return [balances, got, getters.map((g) => g.value)];
    });
    expect(value).toEqual([[0, 2, 0, -3], [1, 2], [7, 8, 9]]);
  });

  it('takes the item of a waiting putter at once, and releases the putter afterwards', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<string>();
      const log: string[] = [];
      const putter = spawn(function* () {
        yield* channel.put('x');
        log.push('putter released');
      });
      yield* sleep(0);
      log.push(`got ${yield* channel.get({ block: false })}`);
      log.push('getter goes on');
      yield* putter.join();
      return log;
    });
    expect(value).toEqual(['got x', 'getter goes on', 'putter released']);
  });

  it('hands each item to the getter that came first when putters and getters meet in the hub', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<number>();
      const log: string[] = [];
      const getters = ['a', 'b'].map((name) =>
        spawn(function* () {
          log.push(`${name} got ${yield* channel.get()}`);
        }),
      );
      const putters = [1, 2].map((n) =>
        spawn(function* () {
          yield* channel.put(n);
          log.push(`put ${n} done`);
        }),
      );
      yield* joinall([...getters, ...putters]);
      return log;
    });
    expect(value).toEqual(['a got 1', 'put 1 done', 'b got 2', 'put 2 done']);
  });
});

describeHub('semaphore state and fairness', (t) => {
  it('refuses tryAcquire and a non-blocking acquire while a greenlet waits, even with a permit free, so the waiter is not overtaken', async () => {
    const { value } = await t.run(function* () {
      const semaphore = new Semaphore(1);
      yield* semaphore.acquire();
      const log: string[] = [];
      const waiter = spawn(function* () {
        yield* semaphore.acquire();
        log.push('waiter got it');
        semaphore.release();
      });
      yield* sleep(0);
      semaphore.release();
      log.push(`counter ${semaphore.counter}, tryAcquire ${String(semaphore.tryAcquire())}`);
      log.push(`acquire without block ${String(yield* semaphore.acquire({ block: false }))}`);
      yield* waiter.join();
      log.push(`after: tryAcquire ${String(semaphore.tryAcquire())}`);
      semaphore.release();
      return log;
    });
    expect(value).toEqual(['counter 1, tryAcquire false', 'acquire without block false', 'waiter got it', 'after: tryAcquire true']);
  });

  it('hands several permits released at once to as many waiters, in order, and no more', async () => {
    const { value } = await t.run(function* () {
      const semaphore = new Semaphore(0);
      const log: string[] = [];
      const waiters = ['a', 'b', 'c'].map((name) =>
        spawn(function* () {
          yield* semaphore.acquire();
          log.push(name);
        }),
      );
      yield* sleep(0);
      semaphore.release();
      semaphore.release();
      yield* sleep(0);
      yield* sleep(0);
      const afterTwo = [...log, `counter ${semaphore.counter}`, `locked ${String(semaphore.locked())}`];
      semaphore.release();
      yield* joinall(waiters);
      return [afterTwo, log];
    });
    expect(value).toEqual([
      ['a', 'b', 'counter 0', 'locked true'],
      ['a', 'b', 'c'],
    ]);
  });

  it('reports the free permits from wait() without taking one, and 0 when the wait times out', async () => {
    const { value } = await t.run(function* () {
      const semaphore = new Semaphore(2);
      const free = yield* semaphore.wait();
      yield* semaphore.acquire();
      yield* semaphore.acquire();
      const timedOut = yield* semaphore.wait(1);
      const waiter = spawn(() => semaphore.wait());
      yield* sleep(0);
      semaphore.release();
      yield* waiter.join();
      return [free, timedOut, waiter.value, semaphore.counter, semaphore.locked()];
    });
    expect(value).toEqual([2, 0, 1, 1, false]);
  });

  it('lets a BoundedSemaphore be released exactly as often as it was acquired', async () => {
    const { value } = await t.run(function* () {
      const bounded = new BoundedSemaphore(2);
      yield* bounded.acquire();
      yield* bounded.acquire();
      const codes: string[] = [];
      for (let i = 0; i < 3; i++) {
        try {
          bounded.release();
          codes.push(`released, counter ${bounded.counter}`);
        } catch (error) {
          codes.push((error as HubError).code);
        }
      }
      return codes;
    });
    expect(value).toEqual(['released, counter 1', 'released, counter 2', 'ERR_HUB_SEMAPHORE_OVER_RELEASED']);
  });

  it('lets any greenlet release a held Lock once, and refuses the second release', async () => {
    const { value } = await t.run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const helper = spawn(function* () {
        lock.release();
        return lock.locked();
      });
      yield* helper.join();
      return [helper.value, yield* outcome(function* () {
        lock.release();
      })];
    });
    expect(value).toEqual([false, 'ERR_HUB_NOT_LOCKED']);
  });

  it('keeps an RLock with its owner when another greenlet cannot take it in time', async () => {
    const { value } = await t.run(function* () {
      const rlock = new RLock();
      yield* rlock.acquire();
      const self = rlock.owner;
      const other = spawn(function* () {
        return [yield* rlock.acquire({ block: false }), yield* rlock.acquire({ timeout: 1 })];
      });
      yield* other.join();
      const state = [other.value, rlock.owner === self, rlock.locked()];
      rlock.release();
      return [...state, rlock.locked(), rlock.owner];
    });
    expect(value).toEqual([[false, false], true, true, false, undefined]);
  });

  it('hands a released RLock to the greenlet waiting for it, which becomes its owner', async () => {
    const { value } = await t.run(function* () {
      const rlock = new RLock();
      yield* rlock.acquire();
      yield* rlock.acquire();
      const waiter: Greenlet<boolean> = spawn(function* (): Generator<unknown, boolean, unknown> {
        yield* rlock.acquire();
        const mine = rlock.owner === getcurrent();
        rlock.release();
        return mine;
      });
      yield* sleep(0);
      rlock.release();
      yield* sleep(0);
      const stillMine = rlock.owner !== waiter && rlock.locked();
      rlock.release();
      yield* waiter.join();
      return [stillMine, waiter.value, rlock.locked()];
    });
    expect(value).toEqual([true, true, false]);
  });
});

describeHub('Event and AsyncResult state', (t) => {
  it('evaluates a timed Event.wait to false when nobody sets it, and true when set in time', async () => {
    const { value } = await t.run(function* () {
      const event = new Event();
      const lonely = yield* event.wait(1);
      const setter = spawn(function* () {
        event.set();
      });
      const inTime = yield* event.wait(1_000_000);
      yield* setter.join();
      event.clear();
      return [lonely, inTime, event.isSet()];
    });
    expect(value).toEqual([false, true, false]);
  });

  it('reports ready, successful, value and exception before, after set and after setException', async () => {
    const pending = new AsyncResult<number>();
    const done = new AsyncResult<number>();
    done.set(5);
    const failed = new AsyncResult<number>();
    const boom = new Error('boom');
    failed.setException(boom);
    const state = (r: AsyncResult<number>): unknown[] => [r.ready, r.successful, r.value, r.exception];
    expect([state(pending), state(done), state(failed)]).toEqual([
      [false, false, undefined, undefined],
      [true, true, 5, undefined],
      [true, false, undefined, boom],
    ]);
    const { value } = await t.run(function* () {
      return [yield* done.get(), yield* done.get({ block: false }), yield* done.wait(), yield* failed.wait(), yield* pending.wait(1)];
    });
    expect(value).toEqual([5, 5, 5, undefined, undefined]);
  });

  it('wakes an AsyncResult waiter with the value set from a loop callback', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const result = new AsyncResult<string>();
      later(loop, 1, () => result.set('late'));
      return [yield* result.wait(), yield* result.get()];
    });
    expect(value).toEqual(['late', 'late']);
  });
});
