// Bridges: a greenlet waiting on a promise, and a promise of a greenlet's result.
import { expect, it } from 'vitest';
import { Timeout, sleep, spawn, waitPromise } from '../src/index.js';
import { describeHub } from './helpers.js';

/** A promise settled by hand, so that tests decide when (no timers involved). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describeHub('waitPromise', (t) => {
  it('evaluates to the value of a promise that resolves while the greenlet waits', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const d = deferred<string>();
      const timer = loop.timer(() => d.resolve('resolved'));
      timer.start(1);
      const result = yield* waitPromise(d.promise);
      timer.close();
      return [result, yield* waitPromise(42)]; // a plain value counts as a resolved promise
    });
    expect(value).toEqual(['resolved', 42]);
  });

  it('raises the rejection in the greenlet', async () => {
    const boom = new Error('rejected');
    const { value } = await t.run(function* () {
      try {
        yield* waitPromise(Promise.reject(boom));
      } catch (error) {
        return error === boom;
      }
      return false;
    });
    expect(value).toBe(true);
  });

  it('keeps the loop alive while a promise the loop cannot see is pending', async () => {
    const { value } = await t.run(function* () {
      // Settled by Node's own event loop, not ours: without a keep-alive the loop would run out
      // of work and the main greenlet would get ERR_HUB_LOOP_EXIT.
      const settled = new Promise<string>((resolve) => setImmediate(() => resolve('from node')));
      return yield* waitPromise(settled);
    });
    expect(value).toBe('from node');
  });

  it('raises a Timeout when the promise is too slow, and ignores its settlement afterwards', async () => {
    const { value } = await t.run(function* () {
      const d = deferred<string>();
      const log: string[] = [];
      try {
        yield* waitPromise(d.promise, 1);
      } catch (error) {
        log.push(error instanceof Timeout ? 'timed out' : 'other');
      }
      const sleeper = spawn(function* () {
        yield* sleep(10);
        log.push('slept its full time');
      });
      d.resolve('late');
      yield* sleeper.join();
      return log;
    });
    expect(value).toEqual(['timed out', 'slept its full time']);
  });

  it('ignores the settlement of a promise whose waiter was killed', async () => {
    const { value } = await t.run(function* () {
      const d = deferred<string>();
      const waiter = spawn(function* () {
        return yield* waitPromise(d.promise);
      });
      yield* sleep(0);
      yield* waiter.kill();
      d.resolve('nobody listens');
      yield* waitPromise(Promise.resolve()); // let the settlement through the hub
      yield* sleep(0);
      return waiter.value instanceof Error;
    });
    expect(value).toBe(true);
  });
});

describeHub('Greenlet.promise', (t) => {
  it('lets async code await a greenlet while the loop runs it', async () => {
    const context = t.open();
    const g = context.hub.spawn(function* (n: number) {
      yield* sleep(1);
      return n + 1;
    }, 41);
    const [result] = await Promise.all([g.promise(), context.loop.run()]);
    expect(result).toBe(42);
    context.finish();
  });
});
