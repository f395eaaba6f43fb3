// Wake-ups that come late or twice: a rejection after its waiter timed out, a greenlet's end
// after its joiner gave up, a second set() before the first one's waiters ran, a timed wait whose
// timer and set() land together; and the hub's run() going on when someone else stops the loop.
import { expect, it } from 'vitest';
import { Channel, Event, Group, Pool, Timeout, joinall, sleep, spawn, waitPromise, type HubError } from '../src/index.js';
import { describeHub, later } from './helpers.js';

describeHub('late and doubled wake-ups', (t) => {
  it('ignores a promise\'s rejection that arrives after its waiter timed out and waits for something else', async () => {
    const { value } = await t.run(function* () {
      let reject: (error: unknown) => void = () => {};
      const promise = new Promise<never>((_resolve, rejectWith) => {
        reject = rejectWith;
      });
      const log: string[] = [];
      const gate = new Event();
      const waiter = spawn(function* () {
        try {
          yield* waitPromise(promise, 1);
        } catch (error) {
          log.push(error instanceof Timeout ? 'timed out' : 'other');
        }
        try {
          yield* gate.wait();
          log.push('gate opened');
        } catch (error) {
          log.push(`wrongly raised ${(error as Error).message}`);
        }
      });
      while (log.length === 0) yield* sleep(1);
      reject(new Error('late rejection'));
      yield* waitPromise(Promise.resolve()); // let the rejection through the hub
      yield* sleep(0);
      gate.set();
      yield* waiter.join();
      return log;
    });
    expect(value).toEqual(['timed out', 'gate opened']);
  });

  it('does not wake a joiner that timed out when the greenlet it joined ends later', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const finish = new Event();
      const gate = new Event();
      const target = spawn(() => finish.wait());
      const joiner = spawn(function* () {
        log.push(`joined ${String(yield* target.join(1))}`);
        const opened = yield* gate.wait();
        log.push(`gate ${String(opened)}`);
      });
      while (log.length === 0) yield* sleep(1);
      finish.set();
      yield* target.join();
      yield* sleep(0);
      yield* sleep(0);
      log.push('target ended');
      gate.set();
      yield* joiner.join();
      return log;
    });
    expect(value).toEqual(['joined false', 'target ended', 'gate true']);
  });

  it('wakes the waiters of both set() calls when an Event is set again before the first set\'s waiters ran', async () => {
    const { value } = await t.run(function* () {
      const event = new Event();
      const log: string[] = [];
      const first = spawn(function* () {
        yield* event.wait();
        log.push('first woke');
      });
      yield* sleep(0); // first waits
      spawn(function* () {
        event.set(); // runs before the first set()'s notification: main is waiting by then
        log.push('second set');
      });
      event.set();
      event.clear();
      yield* event.wait();
      log.push('main woke');
      yield* first.join();
      return log;
    });
    expect(value).toEqual(['second set', 'first woke', 'main woke']);
  });

  it('evaluates a timed Event.wait to true when the event was set as its timer went off', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const event = new Event();
      later(loop, 1, () => event.set()); // started first: fires first, in the same timer phase or before
      return yield* event.wait(1);
    });
    expect(value).toBe(true);
  });

  it('lets no newcomer take a waiting putter\'s item from a Channel while a getter came first', async () => {
    const { value } = await t.run(function* () {
      const channel = new Channel<string>();
      const log: string[] = [];
      const first = spawn(function* () {
        log.push(`first got ${yield* channel.get()}`);
      });
      yield* sleep(0); // first waits
      const putter = spawn(() => channel.put('item'));
      yield* sleep(0); // the putter waits, its hand-over to first is queued
      try {
        log.push(`newcomer got ${yield* channel.get({ block: false })}`);
      } catch (error) {
        log.push(`newcomer ${(error as HubError).code}`);
      }
      yield* joinall([first, putter]);
      return log;
    });
    expect(value).toEqual(['first got item', 'newcomer ERR_HUB_EMPTY']); // without block: a 0 ms wait, which the hand-over beats
  });

  it('kills the members a dying member spawns into its group before kill() returns', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const log: string[] = [];
      group.spawn(function* () {
        try {
          yield* sleep(1_000_000);
        } finally {
          group.spawn(function* () {
            try {
              yield* sleep(1_000_000);
            } finally {
              log.push('late member killed');
            }
          });
        }
      });
      yield* sleep(0);
      yield* group.kill(undefined, { timeout: 5_000 });
      log.push(`kill returned, ${group.length} left`);
      return log;
    });
    expect(value).toEqual(['late member killed', 'kill returned, 0 left']);
  });

  it('ends imap after a member failed: the results after it are not delivered', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const group = new Group();
        const results = group.imap(function* (x: number) {
          if (x === 1) throw boom;
          yield* sleep(1);
          return x;
        }, [1, 2, 3]);
        const seen: unknown[] = [];
        try {
          yield* results.next();
        } catch (error) {
          seen.push(error === boom ? 'raised' : error);
        }
        seen.push(yield* results.next());
        yield* group.join();
        return seen;
      },
      { expectReports: true },
    );
    expect(value).toEqual(['raised', { value: undefined, done: true }]);
  });

  it('stops feeding a pool\'s imap once a member failed: the items after it are not all spawned', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const pool = new Pool(1);
        const started: number[] = [];
        const results = pool.imap((x: number) => {
          started.push(x);
          if (x === 1) throw boom;
          return x;
        }, [1, 2, 3, 4, 5, 6]);
        let raised = false;
        try {
          yield* results.next();
        } catch (error) {
          raised = error === boom;
        }
        for (let i = 0; i < 20; i++) yield* sleep(0); // time for a feeder left alive to go on
        yield* pool.join();
        return [raised, started.includes(6)];
      },
      { expectReports: true },
    );
    expect(value).toEqual([true, false]);
  });
});

describeHub('run() and the loop', (t) => {
  it('keeps running the loop when something else stops it while the main greenlet still waits', async () => {
    const context = t.open();
    const value = await context.hub.run(function* () {
      context.loop.callSoon(() => context.loop.stop());
      yield* sleep(5);
      return 'slept through the stop';
    });
    expect(value).toBe('slept through the stop');
    context.finish();
  });
});
