// Queue, LifoQueue, PriorityQueue and Channel: order, blocking, nothing lost to a killed waiter.
import { expect, it } from 'vitest';
import { Channel, Event, HubError, InvalidArgumentError, LifoQueue, PriorityQueue, Queue, joinall, sleep, spawn } from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

describeHub('Queue', (t) => {
  it('gives items out first in, first out, to getters in the order they came', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>();
      const log: string[] = [];
      const getters = ['a', 'b'].map((name) =>
        spawn(function* () {
          log.push(`${name} got ${yield* queue.get()}`);
        }),
      );
      yield* sleep(0);
      yield* queue.put(1);
      yield* queue.put(2);
      yield* joinall(getters);
      queue.putNowait(3);
      queue.putNowait(4);
      log.push(`left ${queue.getNowait()} ${queue.getNowait()}`);
      return log;
    });
    expect(value).toEqual(['a got 1', 'b got 2', 'left 3 4']);
  });

  it('wakes a getter that waits again and again, once for each item put while it waits', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>();
      const log: string[] = [];
      const getter = spawn(function* () {
        for (let i = 0; i < 3; i++) log.push(`got ${yield* queue.get()}`);
      });
      for (let i = 1; i <= 3; i++) {
        yield* sleep(0); // the getter waits on the empty queue again
        log.push(`put ${i}`);
        yield* queue.put(i);
      }
      yield* getter.join();
      return log;
    });
    expect(value).toEqual(['put 1', 'got 1', 'put 2', 'got 2', 'put 3', 'got 3']);
  });

  it('takes an item already there without switching to the greenlets that are ready', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>(null, ['item']);
      const log: string[] = [];
      const other = spawn(() => log.push('other ran'));
      log.push(`got ${yield* queue.get()}`);
      yield* other.join();
      return log;
    });
    expect(value).toEqual(['got item', 'other ran']);
  });

  it('keeps a putter waiting when the room a get made is filled again before the hand-off', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>(1, ['a']);
      const putter = spawn(function* () {
        yield* queue.put('b');
      });
      yield* sleep(0); // the putter waits on the full queue
      const log = [queue.getNowait()];
      queue.putNowait('c'); // full again before the putter's hand-off runs
      yield* sleep(0);
      log.push(`size ${queue.qsize()}`, `putter ${putter.ready ? 'done' : 'waiting'}`);
      log.push(yield* queue.get());
      yield* putter.join();
      log.push(yield* queue.get());
      return log;
    });
    expect(value).toEqual(['a', 'size 1', 'putter waiting', 'c', 'b']);
  });

  it('hands the room of several gets to as many waiting putters in one go', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>(2, ['a', 'b']);
      const putters = ['c', 'd'].map((item) =>
        spawn(function* () {
          yield* queue.put(item);
        }),
      );
      yield* sleep(0); // both putters wait on the full queue
      const log = [queue.getNowait(), queue.getNowait()];
      yield* sleep(0);
      log.push(`putters ${putters.map((p) => (p.ready ? 'done' : 'waiting')).join(' ')}`);
      yield* joinall(putters);
      log.push(queue.getNowait(), queue.getNowait());
      return log;
    });
    expect(value).toEqual(['a', 'b', 'putters done done', 'c', 'd']);
  });

  it('keeps a getter waiting when the item it was due is taken before the hand-off', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>();
      const log: string[] = [];
      const getter = spawn(function* () {
        log.push(`getter got ${yield* queue.get()}`);
      });
      yield* sleep(0); // the getter waits on the empty queue
      queue.putNowait('a');
      log.push(`main took ${queue.getNowait()}`); // before the getter's hand-off runs
      yield* sleep(0);
      log.push(`getter ${getter.ready ? 'done' : 'waiting'}`);
      yield* queue.put('b');
      yield* getter.join();
      return log;
    });
    expect(value).toEqual(['main took a', 'getter waiting', 'getter got b']);
  });

  it('makes a putter wait while a bounded queue is full, until a get makes room', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>(1);
      const log: string[] = [];
      const putter = spawn(function* () {
        yield* queue.put('first');
        log.push('first in');
        yield* queue.put('second');
        log.push('second in');
      });
      yield* sleep(0);
      log.push(`full ${String(queue.full())}`);
      log.push(`got ${yield* queue.get()}`);
      yield* putter.join();
      log.push(`got ${yield* queue.get()}`);
      return log;
    });
    expect(value).toEqual(['first in', 'full true', 'got first', 'second in', 'got second']);
  });

  it('fails a non-blocking or timed-out get with ERR_HUB_EMPTY and put with ERR_HUB_FULL', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>(1);
      const codes: string[] = [];
      const attempt = function* (op: () => Iterable<unknown, unknown, unknown>) {
        try {
          yield* op() as Generator<unknown, unknown, unknown>;
          codes.push('ok');
        } catch (error) {
          codes.push((error as HubError).code);
        }
      };
      yield* attempt(() => queue.get({ block: false }));
      yield* attempt(() => queue.get({ timeout: 1 }));
      yield* attempt(() => queue.put(1));
      yield* attempt(() => queue.put(2, { block: false }));
      yield* attempt(() => queue.put(2, { timeout: 1 }));
      codes.push((thrownBy(() => queue.putNowait(3)) as HubError).code);
      queue.getNowait();
      codes.push((thrownBy(() => queue.getNowait()) as HubError).code);
      return codes;
    });
    expect(value).toEqual(['ERR_HUB_EMPTY', 'ERR_HUB_EMPTY', 'ok', 'ERR_HUB_FULL', 'ERR_HUB_FULL', 'ERR_HUB_FULL', 'ERR_HUB_EMPTY']);
  });

  it('loses no item to a getter killed while it waited: the item goes to the next getter', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>();
      const log: string[] = [];
      const victim = spawn(function* () {
        log.push(`victim got ${yield* queue.get()}`);
      });
      const survivor = spawn(function* () {
        log.push(`survivor got ${yield* queue.get()}`);
      });
      yield* sleep(0);
      victim.kill(undefined, { block: false }); // the kill is queued in the hub first...
      queue.putNowait('item'); // ...then the hand-out: the victim is still the first getter here
      yield* survivor.join();
      return [...log, victim.ready];
    });
    expect(value).toEqual(['survivor got item', true]);
  });

  it('does not wake a getter that timed out and now waits for something else', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>();
      const log: string[] = [];
      const gaveUp = new Event();
      const release = new Event();
      const impatient = spawn(function* () {
        try {
          yield* queue.get({ timeout: 1 });
        } catch (error) {
          log.push((error as HubError).code);
        }
        gaveUp.set();
        yield* release.wait(); // the put below must not end this wait, nor hand it the item
        log.push('released');
      });
      yield* gaveUp.wait();
      queue.putNowait('item');
      yield* sleep(0);
      yield* sleep(0);
      log.push(`queued ${queue.qsize()}`);
      release.set();
      yield* impatient.join();
      return log;
    });
    expect(value).toEqual(['ERR_HUB_EMPTY', 'queued 1', 'released']);
  });

  it('keeps the item in the queue when its only getter was killed', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>();
      const victim = spawn(function* () {
        return yield* queue.get();
      });
      yield* sleep(0);
      yield* victim.kill();
      yield* queue.put('item');
      return [queue.qsize(), yield* queue.get()];
    });
    expect(value).toEqual([1, 'item']);
  });

  it('puts nothing for a putter killed while it waited for room', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<string>(1, ['occupant']);
      const victim = spawn(function* () {
        yield* queue.put('never');
      });
      yield* sleep(0);
      yield* victim.kill();
      const first = yield* queue.get();
      yield* sleep(0);
      return [first, queue.qsize()];
    });
    expect(value).toEqual(['occupant', 0]);
  });

  it('wakes join() once every item put was marked done, and refuses an extra taskDone()', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>();
      const log: string[] = [];
      const worker = spawn(function* () {
        for (;;) {
          const item = yield* queue.get();
          yield* sleep(1);
          log.push(`done ${item}`);
          queue.taskDone();
        }
      });
      yield* queue.put(1);
      yield* queue.put(2);
      const joined = yield* queue.join();
      log.push(`joined ${String(joined)} ${queue.unfinishedTasks}`);
      yield* worker.kill();
      log.push((thrownBy(() => queue.taskDone()) as HubError).code);
      return log;
    });
    expect(value).toEqual(['done 1', 'done 2', 'joined true 0', 'ERR_HUB_TASK_DONE']);
  });

  it('refuses maxsize 0 (a Channel is the queue that holds nothing) and other bad sizes with InvalidArgumentError', () => {
    for (const bad of [0, -1, 1.5, '2']) {
      const error = thrownBy(() => new Queue(bad as number));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toBeInstanceOf(TypeError);
    }
  });
});

describeHub('LifoQueue and PriorityQueue', (t) => {
  it('gives out the last item put first', async () => {
    const { value } = await t.run(function* () {
      const queue = new LifoQueue<number>(undefined, [1, 2]);
      yield* queue.put(3);
      return [yield* queue.get(), yield* queue.get(), yield* queue.get()];
    });
    expect(value).toEqual([3, 2, 1]);
  });

  it('gives out the smallest item first, by < or by a compare function', async () => {
    const { value } = await t.run(function* () {
      const numbers = new PriorityQueue<number>(undefined, [5, 1, 4]);
      yield* numbers.put(2);
      yield* numbers.put(3);
      const byPriority = new PriorityQueue<{ p: number; name: string }>(undefined, undefined, (a, b) => a.p - b.p);
      for (const [p, name] of [[3, 'low'], [1, 'high'], [2, 'mid']] as const) yield* byPriority.put({ p, name });
      const out: unknown[] = [];
      while (!numbers.empty()) out.push(yield* numbers.get());
      while (!byPriority.empty()) out.push((yield* byPriority.get()).name);
      return out;
    });
    expect(value).toEqual([1, 2, 3, 4, 5, 'high', 'mid', 'low']);
  });
});

describeHub('Channel', (t) => {
  it('hands an item to a getter that waits again and again, once for each put', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<number>();
      const log: string[] = [];
      const getter = spawn(function* () {
        for (let i = 0; i < 3; i++) log.push(`got ${yield* channel.get()}`);
      });
      for (let i = 1; i <= 3; i++) {
        yield* sleep(0); // the getter waits again
        log.push(`put ${i}`);
        yield* channel.put(i);
      }
      yield* getter.join();
      return log;
    });
    expect(value).toEqual(['put 1', 'got 1', 'put 2', 'got 2', 'put 3', 'got 3']);
  });

  it('takes the item of a waiting putter without switching to the greenlets that are ready', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<string>();
      const log: string[] = [];
      const putter = spawn(function* () {
        yield* channel.put('item');
      });
      yield* sleep(0); // the putter waits
      const other = spawn(() => log.push('other ran'));
      log.push(`got ${yield* channel.get()}`);
      yield* joinall([putter, other]);
      return log;
    });
    expect(value).toEqual(['got item', 'other ran']);
  });

  it('makes put wait until a getter takes the item (a rendezvous)', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<string>();
      const log: string[] = [];
      const putter = spawn(function* () {
        log.push('putting');
        yield* channel.put('x');
        log.push('taken');
      });
      yield* sleep(0);
      log.push(`balance ${channel.balance}`);
      log.push(`got ${yield* channel.get()}`);
      yield* putter.join();
      return log;
    });
    expect(value).toEqual(['putting', 'balance 1', 'got x', 'taken']);
  });

  it('hands an item to a waiting getter in arrival order', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<number>();
      const getters = [1, 2].map(() =>
        spawn(function* () {
          return yield* channel.get();
        }),
      );
      yield* sleep(0);
      yield* channel.put(10);
      yield* channel.put(20);
      const got: unknown[] = [];
      for (const getter of getters) got.push(yield* getter.get());
      return got;
    });
    expect(value).toEqual([10, 20]);
  });

  it('gives the item to the next getter when the first was killed while it waited', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<string>();
      const victim = spawn(function* () {
        return yield* channel.get();
      });
      const survivor = spawn(function* () {
        return yield* channel.get();
      });
      yield* sleep(0);
      victim.kill(undefined, { block: false }); // queued before the hand-out the put below asks for
      yield* channel.put('item');
      return [victim.value instanceof Error, yield* survivor.get()];
    });
    expect(value).toEqual([true, 'item']);
  });

  it('delivers nothing for a putter killed while it waited, and times out a lonely put or get', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<string>();
      const victim = spawn(function* () {
        yield* channel.put('never');
      });
      yield* sleep(0);
      yield* victim.kill();
      const codes: string[] = [];
      try {
        yield* channel.get({ timeout: 1 });
      } catch (error) {
        codes.push((error as HubError).code);
      }
      try {
        yield* channel.put('alone', { block: false });
      } catch (error) {
        codes.push((error as HubError).code);
      }
      return codes;
    });
    expect(value).toEqual(['ERR_HUB_EMPTY', 'ERR_HUB_FULL']);
  });
});
