// Event and AsyncResult.
import { expect, it } from 'vitest';
import { AsyncResult, Event, Timeout, joinall, sleep, spawn, type Greenlet } from '../src/index.js';
import { describeHub } from './helpers.js';

describeHub('Event', (t) => {
  it('wakes every greenlet waiting when set, in the order they began to wait', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const event = new Event();
      const waiters: Greenlet[] = [];
      for (const name of ['a', 'b', 'c']) {
        waiters.push(
          spawn(function* () {
            const flag = yield* event.wait();
            log.push(`${name} ${String(flag)}`);
          }),
        );
      }
      yield* sleep(0);
      log.push('set');
      event.set();
      yield* joinall(waiters);
      return log;
    });
    expect(value).toEqual(['set', 'a true', 'b true', 'c true']);
  });

  it('returns at once while set, and waits again after clear()', async () => {
    const { value } = await t.run(function* () {
      const event = new Event();
      event.set();
      const first = yield* event.wait();
      event.clear();
      const second = yield* event.wait(5);
      return [first, second, event.isSet()];
    });
    expect(value).toEqual([true, false, false]);
  });

  it('can be set from a loop callback', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const event = new Event();
      const timer = loop.timer(() => event.set());
      timer.start(1);
      const flag = yield* event.wait();
      timer.close();
      return flag;
    });
    expect(value).toBe(true);
  });

  it('leaves no trace of a killed waiter: set() wakes the others, and stale entries are swept', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const event = new Event();
      const victims: Greenlet[] = [];
      for (let i = 0; i < 200; i++) {
        victims.push(
          spawn(function* () {
            yield* event.wait();
            log.push('victim woke');
          }),
        );
      }
      const survivor = spawn(function* () {
        yield* event.wait();
        log.push('survivor woke');
      });
      yield* sleep(0);
      for (const victim of victims) yield* victim.kill();
      event.set();
      yield* survivor.join();
      return log;
    });
    expect(value).toEqual(['survivor woke']);
  });

  it('wakes waiters that were waiting when set() came, even if cleared before they ran', async () => {
    const { value } = await t.run(function* () {
      const event = new Event();
      const waiter = spawn(function* () {
        return yield* event.wait();
      });
      yield* sleep(0);
      event.set();
      event.clear();
      return yield* waiter.get();
    });
    expect(value).toBe(true);
  });
});

describeHub('AsyncResult', (t) => {
  it('raises the exception given to setException() in a greenlet already waiting in get()', async () => {
    const { value } = await t.run(function* () {
      const result = new AsyncResult<number>();
      const boom = new Error('boom');
      const waiter = spawn(function* () {
        try {
          return yield* result.get();
        } catch (error) {
          return error === boom ? 'raised boom' : 'raised something else';
        }
      });
      yield* sleep(0); // the waiter waits
      result.setException(boom);
      return yield* waiter.get();
    });
    expect(value).toBe('raised boom');
  });

  it('hands its value to every waiter', async () => {
    const { value } = await t.run(function* () {
      const result = new AsyncResult<number>();
      const readers = [1, 2].map(() =>
        spawn(function* () {
          return yield* result.get();
        }),
      );
      yield* sleep(0);
      result.set(7);
      const values: number[] = [];
      for (const reader of readers) values.push((yield* reader.get()) as number);
      return [values, result.ready, result.successful, result.value];
    });
    expect(value).toEqual([[7, 7], true, true, 7]);
  });

  it('raises its exception from get(), and wait() evaluates to undefined without raising', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(function* () {
      const result = new AsyncResult<number>();
      result.setException(boom);
      let raised: unknown;
      try {
        yield* result.get();
      } catch (error) {
        raised = error;
      }
      return [raised === boom, yield* result.wait(), result.exception === boom, result.successful];
    });
    expect(value).toEqual([true, undefined, true, false]);
  });

  it('raises a Timeout from get() when nothing comes in time, or at once without block', async () => {
    const { value } = await t.run(function* () {
      const result = new AsyncResult<number>();
      const outcomes: boolean[] = [];
      for (const options of [{ timeout: 2 }, { block: false }]) {
        try {
          yield* result.get(options);
        } catch (error) {
          outcomes.push(error instanceof Timeout);
        }
      }
      return [outcomes, yield* result.wait(1)];
    });
    expect(value).toEqual([[true, true], undefined]);
  });
});
