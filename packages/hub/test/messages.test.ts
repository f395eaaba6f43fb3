// Every misuse gets a typed error with a stable code and a message that says what went wrong and
// what to do instead: these tests pin the codes and the messages word for word.
import { Greenlet as RawGreenlet } from '@loop/greenlet';
import { expect, it } from 'vitest';
import {
  AsyncResult,
  BoundedSemaphore,
  Channel,
  Event,
  Greenlet,
  GreenletFailure,
  Group,
  Hub,
  HubError,
  InvalidArgumentError,
  Lock,
  Pool,
  PriorityQueue,
  Queue,
  RLock,
  Semaphore,
  Timeout,
  getHub,
  joinall,
  killall,
  sleep,
  spawn,
  spawnLater,
  waitPromise,
  withLock,
  withTimeout,
} from '../src/index.js';
import { checkFunction, checkOptions, checkSize, checkTimeout } from '../src/errors.js';
import { describeHub, thrownBy } from './helpers.js';

/** `[code, message]` of what `fn` throws. */
function codeAndMessage(fn: () => unknown): [unknown, unknown] {
  const error = thrownBy(fn) as { code?: unknown; message?: unknown };
  return [error.code, error.message];
}

/** `[code, message]` of what a blocking call raises in the running greenlet. */
function* raised(call: () => Iterable<unknown, unknown, unknown>): Generator<unknown, [unknown, unknown], unknown> {
  try {
    yield* call() as Generator<unknown, unknown, unknown>;
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    return [e.code, e.message];
  }
  return ['no throw', ''];
}

describeHub('argument checks say what they expected and what they got', (t) => {
  it('accepts a timeout of undefined, null (none), 0 and a finite positive number, and names the bad one', () => {
    expect([checkTimeout('t', undefined), checkTimeout('t', null), checkTimeout('t', 0), checkTimeout('t', 2.5)]).toEqual([undefined, undefined, 0, 2.5]);
    const bad: [unknown, string][] = [
      [-1, 'got -1'],
      [Number.NaN, 'got NaN'],
      [Infinity, 'got Infinity'],
      ['5', "got '5'"],
      [true, 'got true'],
      [{}, 'got object'],
      [() => 1, 'got function'],
    ];
    for (const [value, got] of bad) {
      expect(codeAndMessage(() => checkTimeout('options.timeout', value))).toEqual([
        'ERR_INVALID_ARG',
        `options.timeout must be a finite number of ms >= 0 (or undefined for none), ${got}`,
      ]);
    }
  });

  it('accepts a size from its minimum up, Infinity only when allowed, and names the bad one', () => {
    expect([checkSize('n', 0, 0), checkSize('n', 1, 1), checkSize('n', 7, 1), checkSize('n', Infinity, 1, true)]).toEqual([0, 1, 7, Infinity]);
    expect(codeAndMessage(() => checkSize('size', 0, 1))).toEqual(['ERR_INVALID_ARG', 'size must be an integer >= 1, got 0']);
    expect(codeAndMessage(() => checkSize('value', 1.5, 0))).toEqual(['ERR_INVALID_ARG', 'value must be an integer >= 0, got 1.5']);
    expect(codeAndMessage(() => checkSize('value', Infinity, 0))).toEqual(['ERR_INVALID_ARG', 'value must be an integer >= 0, got Infinity']);
    expect(codeAndMessage(() => checkSize('size', '3', 1, true))).toEqual(['ERR_INVALID_ARG', "size must be an integer >= 1 (or Infinity), got '3'"]);
    expect(codeAndMessage(() => checkSize('size', 0, 1, true))).toEqual(['ERR_INVALID_ARG', 'size must be an integer >= 1 (or Infinity), got 0']);
  });

  it('accepts an options object or undefined, and refuses null and primitives by name', () => {
    const options = { block: true };
    expect([checkOptions('options', options), checkOptions('options', undefined)]).toEqual([options, undefined]);
    expect(codeAndMessage(() => checkOptions('options', null as never))).toEqual(['ERR_INVALID_ARG', 'options must be an object or undefined, got null']);
    expect(codeAndMessage(() => checkOptions('options', 3 as never))).toEqual(['ERR_INVALID_ARG', 'options must be an object or undefined, got 3']);
    expect(codeAndMessage(() => checkOptions('options', 'x' as never))).toEqual(['ERR_INVALID_ARG', "options must be an object or undefined, got 'x'"]);
  });

  it('accepts a function and names what it got instead', () => {
    expect(checkFunction('fn', () => 1)).toBeUndefined();
    expect(codeAndMessage(() => checkFunction('fn', 42))).toEqual(['ERR_INVALID_ARG', 'fn must be a function, got 42']);
    expect(codeAndMessage(() => checkFunction('fn', undefined))).toEqual(['ERR_INVALID_ARG', 'fn must be a function, got undefined']);
    expect(codeAndMessage(() => checkFunction('fn', Symbol('s')))).toEqual(['ERR_INVALID_ARG', 'fn must be a function, got symbol']);
  });

  it('sizes queues: null, undefined and Infinity are unbounded, 0 points to Channel, and a bad maxsize is named', () => {
    expect([new Queue().maxsize, new Queue(null).maxsize, new Queue(Infinity).maxsize, new Queue(1).maxsize]).toEqual([Infinity, Infinity, Infinity, 1]);
    expect(codeAndMessage(() => new Queue(0))).toEqual([
      'ERR_INVALID_ARG',
      'maxsize must be at least 1 (or Infinity); for a queue that holds no item, use a Channel',
    ]);
    expect(codeAndMessage(() => new Queue(-2))).toEqual(['ERR_INVALID_ARG', 'maxsize must be an integer >= 1 or Infinity, got -2']);
    expect(codeAndMessage(() => new Queue(1.5))).toEqual(['ERR_INVALID_ARG', 'maxsize must be an integer >= 1 or Infinity, got 1.5']);
    expect(codeAndMessage(() => new Queue('2' as never))).toEqual(['ERR_INVALID_ARG', 'maxsize must be an integer >= 1 or Infinity, got 2']);
  });

  it('refuses a PriorityQueue order that is not a function, by name', () => {
    expect(codeAndMessage(() => new PriorityQueue(null, [], 3 as never))).toEqual(['ERR_INVALID_ARG', 'compare must be a function, got 3']);
  });

  it('fills a queue from its initial items up to maxsize, and refuses one item more', () => {
    const queue = new Queue(2, ['a', 'b']);
    expect([queue.qsize(), queue.full(), queue.unfinishedTasks]).toEqual([2, true, 2]);
    expect(codeAndMessage(() => new Queue(2, ['a', 'b', 'c']))).toEqual(['ERR_INVALID_ARG', 'more items than maxsize (2)']);
  });

  it('sizes semaphores and pools: a semaphore may start at 0, a pool needs 1', () => {
    expect([new Semaphore(0).counter, new Semaphore().counter, new Semaphore(3).counter, new Pool(1).size]).toEqual([0, 1, 3, 1]);
    expect(codeAndMessage(() => new Semaphore(-1))).toEqual(['ERR_INVALID_ARG', 'value must be an integer >= 0, got -1']);
    expect(codeAndMessage(() => new Pool(0))).toEqual(['ERR_INVALID_ARG', 'size must be an integer >= 1, got 0']);
  });

  it('refuses a hub for something that is not a loop, bad options, and a second live hub on one loop', () => {
    const context = t.open();
    expect(codeAndMessage(() => new Hub({} as never))).toEqual(['ERR_INVALID_ARG', 'a hub needs an EventLoop, got object']);
    expect(codeAndMessage(() => new Hub(null as never))).toEqual(['ERR_INVALID_ARG', 'a hub needs an EventLoop, got null']);
    expect(codeAndMessage(() => new Hub(5 as never))).toEqual(['ERR_INVALID_ARG', 'a hub needs an EventLoop, got number']);
    expect(codeAndMessage(() => new Hub({ callSoon() {} } as never))).toEqual(['ERR_INVALID_ARG', 'a hub needs an EventLoop, got object']);
    expect(codeAndMessage(() => new Hub({ timer() {} } as never))).toEqual(['ERR_INVALID_ARG', 'a hub needs an EventLoop, got object']);
    expect(codeAndMessage(() => new Hub(context.loop))).toEqual([
      'ERR_INVALID_ARG',
      'this loop already has a hub: use getHub(loop), or destroy() the old hub first',
    ]);
    context.hub.destroy();
    expect(codeAndMessage(() => new Hub(context.loop, { onError: 5 as never }))).toEqual(['ERR_INVALID_ARG', 'options.onError must be a function, got 5']);
    expect(codeAndMessage(() => new Hub(context.loop, { switchInterval: -1 }))).toEqual([
      'ERR_INVALID_ARG',
      'options.switchInterval must be a finite number of ms >= 0 (or undefined for none), got -1',
    ]);
    expect(codeAndMessage(() => new Hub(context.loop, 7 as never))).toEqual(['ERR_INVALID_ARG', 'options must be an object or undefined, got 7']);
    // The refused hubs did not take the loop: a fresh one can, and getHub(loop) hands it out.
    const fresh = new Hub(context.loop);
    expect(getHub(context.loop)).toBe(fresh);
    fresh.destroy();
    context.finish();
  });

  it('names the hub after its backend, and says when it was destroyed', () => {
    const context = t.open();
    expect(String(context.hub)).toBe(`Hub<${context.loop.backend}>`);
    context.hub.destroy();
    expect(String(context.hub)).toBe(`Hub<${context.loop.backend} destroyed>`);
    context.finish();
  });

  it('tells a run() made while the loop runs to spawn the greenlet instead', async () => {
    const { value } = await t.run(function* ({ hub }) {
      return codeAndMessage(() => hub.run(function* () {}));
    });
    expect(value).toEqual(['ERR_LOOP_RUNNING', 'hub.run() runs the loop, which is already running: spawn the greenlet instead']);
  });

  it('refuses to spawn on a destroyed hub with ERR_HUB_DESTROYED', () => {
    const context = t.open();
    context.hub.destroy();
    expect(codeAndMessage(() => context.hub.spawn(function* () {}))).toEqual(['ERR_HUB_DESTROYED', 'this hub was destroyed']);
    expect(codeAndMessage(() => context.hub.spawnLater(1, function* () {}))).toEqual(['ERR_HUB_DESTROYED', 'this hub was destroyed']);
    expect(codeAndMessage(() => new Greenlet(context.hub, function* () {}))).toEqual(['ERR_HUB_DESTROYED', 'this hub was destroyed']);
    context.finish();
  });

  it('refuses greenlet arguments that are not an array, and a name that is not a string', () => {
    const context = t.open();
    expect(codeAndMessage(() => new Greenlet(context.hub, function* () {}, 5 as never))).toEqual(['ERR_INVALID_ARG', 'args must be an array']);
    expect(codeAndMessage(() => new Greenlet(context.hub, 3 as never))).toEqual(['ERR_INVALID_ARG', 'fn must be a function, got 3']);
    expect(codeAndMessage(() => new Greenlet(context.hub, function* () {}).startLater(-1))).toEqual([
      'ERR_INVALID_ARG',
      'ms must be a finite number of ms >= 0 (or undefined for none), got -1',
    ]);
    const greenlet = new Greenlet(context.hub, function* work() {});
    expect(codeAndMessage(() => (greenlet.name = 3 as never))).toEqual(['ERR_INVALID_ARG', 'name must be a string, got number']);
    greenlet.name = 'w';
    expect(String(greenlet)).toBe('<Greenlet "w": work>');
    greenlet.start();
    expect(codeAndMessage(() => greenlet.start())).toEqual(['ERR_HUB_ALREADY_STARTED', '<Greenlet "w": work> was already started']);
    expect(codeAndMessage(() => greenlet.startLater(1))).toEqual(['ERR_HUB_ALREADY_STARTED', '<Greenlet "w": work> was already started']);
    context.finish();
  });

  it('tells main code which hub call to make instead of spawn()', () => {
    expect(codeAndMessage(() => spawn(function* () {}))).toEqual([
      'ERR_HUB_NO_CURRENT_HUB',
      'spawn() outside a hub greenlet needs to be told which hub to use: call it on a hub (getHub(loop).spawn(...))',
    ]);
    expect(codeAndMessage(() => new Group().spawn(function* () {}))).toEqual([
      'ERR_HUB_NO_CURRENT_HUB',
      'Group.spawn() outside a hub greenlet needs to be told which hub to use: call it on a hub (getHub(loop).Group.spawn(...))',
    ]);
  });

  it('tells main code that a blocking call needs a greenlet, and a raw greenlet that it needs a hub greenlet', () => {
    expect(codeAndMessage(() => sleep(1))).toEqual([
      'ERR_BLOCKING_IN_CALLBACK',
      'sleep() can block (or acts for the running greenlet), so it needs a greenlet, and this is main code or a loop callback: ' +
        'spawn a greenlet (hub.spawn, or run the program with hub.run) and call it there with yield*.',
    ]);
    const raw = new RawGreenlet(() => codeAndMessage(() => new Event().wait()));
    expect(raw.switch()).toEqual([
      'ERR_HUB_RAW_GREENLET',
      'Event.wait() was called in a greenlet that no hub spawned: only greenlets spawned by a hub (hub.spawn, spawn) can block on it',
    ]);
  });

  it('names the blocking call made in main code at the start of its message', () => {
    const context = t.open();
    const done = context.hub.spawn(() => 1);
    const calls: [string, () => unknown][] = [
      ['sleep()', () => sleep(1)],
      ['Event.wait()', () => new Event().wait()],
      ['AsyncResult.get()', () => new AsyncResult().get()],
      ['AsyncResult.wait()', () => new AsyncResult().wait()],
      ['Queue.get()', () => new Queue().get()],
      ['Queue.put()', () => new Queue().put(1)],
      ['Queue.join()', () => new Queue().join()],
      ['Channel.get()', () => new Channel().get()],
      ['Channel.put()', () => new Channel().put(1)],
      ['Semaphore.acquire()', () => new Semaphore().acquire()],
      ['BoundedSemaphore.wait()', () => new BoundedSemaphore().wait()],
      ['Lock.acquire()', () => new Lock().acquire()],
      ['RLock.acquire()', () => new RLock().acquire()],
      ['RLock.release()', () => new RLock().release()],
      ['withLock()', () => withLock(new Lock(), function* () {})],
      ['waitPromise()', () => waitPromise(1)],
      ['withTimeout()', () => withTimeout(1, function* () {})],
      ['Timeout.start()', () => new Timeout(1).start()],
      ['joinall()', () => joinall([])],
      ['killall()', () => killall([])],
      ['Greenlet.join()', () => done.join()],
      ['Greenlet.get()', () => done.get()],
      ['Greenlet.kill()', () => done.kill()],
      ['Group.join()', () => new Group().join()],
      ['Group.kill()', () => new Group().kill()],
      ['Group.map()', () => new Group(context.hub).map((x: number) => x, [])],
      ['Pool.spawn()', () => new Pool(1).spawn(function* () {})],
      ['Pool.add()', () => new Pool(1).add(done)],
      ['ResultIterator.next()', () => new Group(context.hub).imap((x: number) => x, []).next()],
    ];
    const wrong: unknown[] = [];
    for (const [name, call] of calls) {
      const [code, message] = codeAndMessage(call);
      if (code !== 'ERR_BLOCKING_IN_CALLBACK' || !String(message).startsWith(`${name} can block`)) wrong.push([name, code, message]);
    }
    expect(wrong).toEqual([]);
    expect(codeAndMessage(() => spawnLater(1, function* () {}))).toEqual([
      'ERR_HUB_NO_CURRENT_HUB',
      'spawnLater() outside a hub greenlet needs to be told which hub to use: call it on a hub (getHub(loop).spawnLater(...))',
    ]);
    expect(codeAndMessage(() => getHub())).toEqual([
      'ERR_HUB_NO_CURRENT_HUB',
      'getHub() outside a hub greenlet needs to be told which hub to use: call it on a hub (getHub(loop).getHub(...))',
    ]);
    expect(codeAndMessage(() => new Pool(1).trySpawn(() => 1))).toEqual([
      'ERR_HUB_NO_CURRENT_HUB',
      'Pool.trySpawn() outside a hub greenlet needs to be told which hub to use: call it on a hub (getHub(loop).Pool.trySpawn(...))',
    ]);
    expect(codeAndMessage(() => new Group().imap((x: number) => x, []))).toEqual([
      'ERR_HUB_NO_CURRENT_HUB',
      'imap() outside a hub greenlet needs to be told which hub to use: call it on a hub (getHub(loop).imap(...))',
    ]);
    context.finish();
  });

  it('checks the options, timeouts and functions of every entry point in a greenlet, naming the bad argument', async () => {
    const { value } = await t.run(function* ({ hub }) {
      const done = spawn(() => 1);
      yield* done.join();
      const queue = new Queue<number>(undefined, [1, 2]);
      const set = new AsyncResult<number>();
      set.set(1);
      const body = function* (): Generator<unknown, void, unknown> {};
      const pool = new Pool(1, hub);
      const options = 'options must be an object or undefined, got 3';
      const timeout = (name: string): string => `${name} must be a finite number of ms >= 0 (or undefined for none), got -1`;
      const cases: [string, () => Iterable<unknown, unknown, unknown>, string][] = [
        ['Queue.put', () => queue.put(3, 3 as never), options],
        ['Queue.get', () => queue.get(3 as never), options],
        ['Queue.put timeout', () => queue.put(3, { timeout: -1 }), timeout('options.timeout')],
        ['Queue.get timeout', () => queue.get({ timeout: -1 }), timeout('options.timeout')],
        ['Group.join timeout', () => new Group().join({ timeout: -1 }), timeout('options.timeout')],
        ['Group.kill timeout', () => new Group().kill(undefined, { timeout: -1 }), timeout('options.timeout')],
        ['Greenlet.get timeout', () => done.get({ timeout: -1 }), timeout('options.timeout')],
        ['Channel.put timeout', () => new Channel().put(1, { timeout: -1 }), timeout('options.timeout')],
        ['Channel.get timeout', () => new Channel().get({ timeout: -1 }), timeout('options.timeout')],
        ['joinall timeout', () => joinall([done], { timeout: -1 }), timeout('options.timeout')],
        ['killall timeout', () => killall([done], undefined, { timeout: -1 }), timeout('options.timeout')],
        ['Semaphore.acquire timeout', () => new Semaphore().acquire({ timeout: -1 }), timeout('options.timeout')],
        ['Event.wait', () => new Event().wait(-1), timeout('timeout')],
        ['AsyncResult.get timeout', () => set.get({ timeout: -1 }), timeout('options.timeout')],
        ['sleep', () => sleep(-1), timeout('ms')],
        ['withTimeout fn', () => withTimeout(1, 5 as never), 'fn must be a function, got 5'],
        ['Queue.join', () => new Queue().join(-1), timeout('timeout')],
        ['Channel.put', () => new Channel().put(1, 3 as never), options],
        ['Channel.get', () => new Channel().get(3 as never), options],
        ['Semaphore.acquire', () => new Semaphore().acquire(3 as never), options],
        ['Semaphore.wait', () => new Semaphore().wait(-1), timeout('timeout')],
        ['AsyncResult.get', () => set.get(3 as never), options],
        ['AsyncResult.wait', () => set.wait(-1), timeout('timeout')],
        ['Greenlet.get', () => done.get(3 as never), options],
        ['Greenlet.join', () => done.join(-1), timeout('timeout')],
        ['Greenlet.kill', () => done.kill(undefined, 3 as never), options],
        ['joinall', () => joinall([done], 3 as never), options],
        ['killall', () => killall([done], undefined, 3 as never), options],
        ['Group.join', () => new Group().join(3 as never), options],
        ['Group.kill', () => new Group().kill(undefined, 3 as never), options],
        ['withTimeout options', () => withTimeout(1, body, 3 as never), options],
        ['withTimeout ms', () => withTimeout(-1, body), timeout('ms')],
        ['waitPromise', () => waitPromise(1, -1), timeout('timeout')],
        ['Pool.spawn', () => (pool.spawn as (fn: unknown) => Iterable<unknown, unknown, unknown>)(5), 'fn must be a function, got 5'],
      ];
      const out: unknown[] = [];
      for (const [name, call, expected] of cases) {
        const [code, message] = yield* raised(call);
        if (code !== 'ERR_INVALID_ARG' || message !== expected) out.push([name, code, message]);
      }
      out.push(codeAndMessage(() => (pool.trySpawn as (fn: unknown) => unknown)(5)));
      out.push(codeAndMessage(() => withTimeout(-1, body))); // at the call, not when yield*-ed
      out.push(codeAndMessage(() => done.link(5 as never)));
      out.push(codeAndMessage(() => hub.setErrorHandler(5 as never)));
      return [out, queue.qsize(), pool.freeCount()];
    });
    expect(value).toEqual([
      [
        ['ERR_INVALID_ARG', 'fn must be a function, got 5'],
        ['ERR_INVALID_ARG', 'ms must be a finite number of ms >= 0 (or undefined for none), got -1'],
        ['ERR_INVALID_ARG', 'callback must be a function, got 5'],
        ['ERR_INVALID_ARG', 'handler must be a function, got 5'],
      ],
      2,
      1, // the refused spawns took no place in the pool
    ]);
  });

  it('refuses joinall and killall without an iterable of hub greenlets', async () => {
    const { value } = await t.run(function* () {
      return [
        codeAndMessage(() => joinall(5 as never)),
        codeAndMessage(() => joinall(null as never)),
        codeAndMessage(() => joinall([5] as never)),
        codeAndMessage(() => killall('ab' as never)),
        codeAndMessage(() => killall([{}] as never)),
        codeAndMessage(() => joinall([], { count: -1 })),
      ];
    });
    expect(value).toEqual([
      ['ERR_INVALID_ARG', 'joinall() needs an iterable of greenlets'],
      ['ERR_INVALID_ARG', 'joinall() needs an iterable of greenlets'],
      ['ERR_INVALID_ARG', 'joinall() needs hub greenlets, got number'],
      ['ERR_INVALID_ARG', 'killall() needs an iterable of greenlets'],
      ['ERR_INVALID_ARG', 'killall() needs hub greenlets, got object'],
      ['ERR_INVALID_ARG', 'options.count must be an integer >= 0, got -1'],
    ]);
  });

  it('refuses to add what is not a hub greenlet to a group or pool, and to map over what is not iterable', async () => {
    const context = t.open();
    const group = new Group(context.hub);
    expect(codeAndMessage(() => group.add({} as never))).toEqual(['ERR_INVALID_ARG', 'only hub greenlets can join a group']);
    expect(codeAndMessage(() => group.imap(() => 1, null as never))).toEqual(['ERR_INVALID_ARG', 'items must be iterable']);
    expect(codeAndMessage(() => group.imapUnordered(() => 1, 'abc' as never))).toEqual(['ERR_INVALID_ARG', 'items must be iterable']);
    expect(codeAndMessage(() => group.imap(5 as never, []))).toEqual(['ERR_INVALID_ARG', 'fn must be a function, got 5']);
    expect(group.length).toBe(0);
    context.finish();
    const { value } = await t.run(function* () {
      return codeAndMessage(() => new Pool(1).add(7 as never));
    });
    expect(value).toEqual(['ERR_INVALID_ARG', 'only hub greenlets can join a pool']);
  });
});

describeHub('failure messages', (t) => {
  it('says how full a queue was, and for how long a timed put waited', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>(1, [0]);
      return [
        yield* raised(() => queue.put(1, { block: false })),
        yield* raised(() => queue.put(1, { timeout: 1 })),
        codeAndMessage(() => queue.putNowait(1)),
      ];
    });
    expect(value).toEqual([
      ['ERR_HUB_FULL', 'the queue is full (1 items)'],
      ['ERR_HUB_FULL', 'the queue is full (1 items) for 1 ms'],
      ['ERR_HUB_FULL', 'the queue is full (1 items)'],
    ]);
  });

  it('says a queue was empty, and for how long a timed get waited', async () => {
    const { value } = await t.run(function* () {
      const queue = new Queue<number>();
      return [
        yield* raised(() => queue.get({ block: false })),
        yield* raised(() => queue.get({ timeout: 1 })),
        codeAndMessage(() => queue.getNowait()),
        codeAndMessage(() => queue.taskDone()),
      ];
    });
    expect(value).toEqual([
      ['ERR_HUB_EMPTY', 'the queue is empty'],
      ['ERR_HUB_EMPTY', 'the queue is empty for 1 ms'],
      ['ERR_HUB_EMPTY', 'the queue is empty'],
      ['ERR_HUB_TASK_DONE', 'taskDone() was called more times than items were put'],
    ]);
  });

  it('says no greenlet met a channel put or get, with the wait only when there was one', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<number>();
      return [
        yield* raised(() => channel.put(1, { block: false })),
        yield* raised(() => channel.put(1, { timeout: 1 })),
        yield* raised(() => channel.get({ block: false })),
        yield* raised(() => channel.get({ timeout: 1 })),
        channel.balance,
      ];
    });
    expect(value).toEqual([
      ['ERR_HUB_FULL', 'no greenlet took the item'],
      ['ERR_HUB_FULL', 'no greenlet took the item within 1 ms'],
      ['ERR_HUB_EMPTY', 'no greenlet put an item'],
      ['ERR_HUB_EMPTY', 'no greenlet put an item within 1 ms'],
      0,
    ]);
  });

  it('names the lock that was released too often', async () => {
    expect(codeAndMessage(() => new Lock().release())).toEqual(['ERR_HUB_NOT_LOCKED', 'release() of a Lock that is not held']);
    expect(codeAndMessage(() => new BoundedSemaphore(2).release())).toEqual([
      'ERR_HUB_SEMAPHORE_OVER_RELEASED',
      'BoundedSemaphore released more times than it was acquired',
    ]);
    const { value } = await t.run(function* () {
      return codeAndMessage(() => new RLock().release());
    });
    expect(value).toEqual(['ERR_HUB_NOT_LOCKED', 'release() of an RLock the running greenlet does not hold']);
  });

  it('names the Timeout, its delay and its default message', () => {
    expect(codeAndMessage(() => new Timeout(-1))).toEqual(['ERR_INVALID_ARG', 'ms must be a finite number of ms >= 0 (or undefined for none), got -1']);
    const none = new Timeout();
    const five = new Timeout(5);
    const told = new Timeout(5, undefined, 'told');
    const cause = new Error('cause');
    expect([none.name, none.message, none.ms, five.message, five.ms, told.message, new Timeout(1, cause).exception]).toEqual([
      'Timeout',
      'timed out',
      undefined,
      'timed out after 5 ms',
      5,
      'told',
      cause,
    ]);
    expect(new Timeout(0).message).toBe('timed out after 0 ms');
    expect(new HubError('ERR_HUB_EMPTY', 'x').name).toBe('HubError');
  });

  it('says which greenlet has not finished, and how long get() waited for it', async () => {
    const { value } = await t.run(function* () {
      const gate = new Event();
      const slow = spawn(function* slowOne() {
        yield* gate.wait();
      });
      slow.name = 'slow';
      const out = [yield* raised(() => slow.get({ block: false })), yield* raised(() => slow.get({ timeout: 1 }))];
      gate.set();
      yield* slow.join();
      return out;
    });
    expect(value).toEqual([
      ['ERR_HUB_TIMEOUT', '<Greenlet "slow": slowOne> has not finished'],
      ['ERR_HUB_TIMEOUT', '<Greenlet "slow": slowOne> did not finish within 1 ms'],
    ]);
  });

  it('says an AsyncResult or a promise had nothing in time', async () => {
    const { value } = await t.run(function* () {
      const result = new AsyncResult();
      return [
        yield* raised(() => result.get({ block: false })),
        yield* raised(() => result.get({ timeout: 1 })),
        yield* raised(() => waitPromise(new Promise(() => {}), 1)),
      ];
    });
    expect(value).toEqual([
      ['ERR_HUB_TIMEOUT', 'the AsyncResult has no result yet'],
      ['ERR_HUB_TIMEOUT', 'the AsyncResult got no result within 1 ms'],
      ['ERR_HUB_TIMEOUT', 'the promise did not settle within 1 ms'],
    ]);
  });

  it('counts the greenlets killall left alive after its timeout, not those it killed', async () => {
    const { value } = await t.run(function* () {
      const stubborn = [0, 1].map(() =>
        spawn(function* () {
          try {
            yield* sleep(1_000_000);
          } finally {
            yield* sleep(50);
          }
        }),
      );
      const quick = spawn(function* () {
        yield* sleep(1_000_000); // dies at once when killed
      });
      yield* sleep(0);
      const outcome = yield* raised(() => killall([...stubborn, quick], undefined, { timeout: 1 }));
      yield* joinall(stubborn);
      return outcome;
    });
    expect(value).toEqual(['ERR_HUB_TIMEOUT', '2 greenlets still alive after 1 ms']);
  });

  it('reports a greenlet that died of a non-Error with the value\'s type and text', () => {
    const context = t.open();
    const greenlet = new Greenlet(context.hub, function* named() {});
    greenlet.name = 'g';
    const failure = new GreenletFailure(greenlet, 'oops');
    expect([failure.code, failure.name, failure.message, failure.cause, failure.greenlet]).toEqual([
      'ERR_HUB_GREENLET_FAILED',
      'GreenletFailure',
      '<Greenlet "g": named> failed with string: oops',
      'oops',
      greenlet,
    ]);
    expect(failure.stack).toBe('oops\n<Greenlet "g": named> failed with string');
    const typeError = new TypeError('bad');
    const fromError = new GreenletFailure(greenlet, typeError);
    expect(fromError.message).toBe('<Greenlet "g": named> failed with TypeError: bad');
    expect(fromError.stack).toBe(`${typeError.stack}\n<Greenlet "g": named> failed with TypeError`);
    context.finish();
  });

  it('says which main greenlet the loop ran out of work under', async () => {
    const context = t.open();
    const outcome = await context.hub
      .run(function* stuck() {
        yield* new Event().wait();
      })
      .then(
        () => ['resolved', ''],
        (error: HubError) => [error.code, error.message],
      );
    expect(outcome[0]).toBe('ERR_HUB_LOOP_EXIT');
    expect(outcome[1]).toMatch(/^the loop ran out of work while <Greenlet "Greenlet-\d+": stuck> was still blocked: nothing could ever wake it$/);
    context.finish();
  });

  it('names InvalidArgumentError as a TypeError with core\'s code', () => {
    const error = thrownBy(() => new Semaphore('1' as never)) as InvalidArgumentError;
    expect([error instanceof InvalidArgumentError, error instanceof TypeError, error.code]).toEqual([true, true, 'ERR_INVALID_ARG']);
  });
});
