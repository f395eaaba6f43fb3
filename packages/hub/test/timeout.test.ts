// Timeout and withTimeout: raised in the greenlet that set it, its timer gone on every way out.
import { EventLoopError } from '@loop/core';
import { GreenletExit } from '@loop/greenlet';
import { expect, it } from 'vitest';
import { Event, HubError, InvalidArgumentError, Timeout, sleep, spawn, withTimeout } from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

describeHub('Timeout', (t) => {
  it('raises itself in the greenlet that started it, where that greenlet waits', async () => {
    const { value } = await t.run(function* () {
      const timeout = Timeout.startNew(5);
      try {
        yield* new Event().wait();
        return 'not reached';
      } catch (error) {
        return [error === timeout, (error as Timeout).code, error instanceof EventLoopError, timeout.pending];
      } finally {
        timeout.cancel();
      }
    });
    expect(value).toEqual([true, 'ERR_HUB_TIMEOUT', true, false]);
  });

  it('raises the exception it was given instead of itself', async () => {
    const { value } = await t.run(function* () {
      const mine = new Error('too slow');
      const timeout = new Timeout(5, mine).start();
      try {
        yield* sleep(1000);
      } catch (error) {
        return error === mine;
      } finally {
        timeout.cancel();
      }
      return false;
    });
    expect(value).toBe(true);
  });

  it('raises nothing once cancelled, and its timer is gone (the loop can close)', async () => {
    const { value } = await t.run(function* () {
      const timeout = Timeout.startNew(5);
      timeout.cancel();
      yield* sleep(15);
      return timeout.pending;
    });
    expect(value).toBe(false);
  });

  it('interrupts only the greenlet that started it', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const mainDone = new Event();
      const other = spawn(function* () {
        yield* mainDone.wait(); // a wait of its own, which the timeout must not interrupt
        log.push('other not interrupted');
      });
      const timeout = Timeout.startNew(5);
      try {
        yield* sleep(1000);
      } catch (error) {
        log.push(error === timeout ? 'main timed out' : 'other error');
      }
      mainDone.set();
      yield* other.join();
      return log;
    });
    expect(value).toEqual(['main timed out', 'other not interrupted']);
  });

  it('tells nested timeouts apart by identity: the shorter fires first', async () => {
    const { value } = await t.run(function* () {
      const outer = Timeout.startNew(1000);
      const inner = Timeout.startNew(5);
      try {
        yield* sleep(500);
        return 'slept';
      } catch (error) {
        return error === inner ? 'inner' : error === outer ? 'outer' : 'other';
      } finally {
        inner.cancel();
        outer.cancel();
      }
    });
    expect(value).toBe('inner');
  });

  it('never fires without a delay (gevent\'s None)', async () => {
    const { value } = await t.run(function* () {
      const timeout = Timeout.startNew(undefined);
      yield* sleep(1);
      return timeout.pending;
    });
    expect(value).toBe(false);
  });

  it('fires into nothing when its greenlet has finished', async () => {
    const { value } = await t.run(function* () {
      const forgetful = spawn(function* () {
        Timeout.startNew(2); // never cancelled: its greenlet ends first
        return 'finished';
      });
      yield* forgetful.join();
      yield* sleep(10); // the timer fires meanwhile
      return forgetful.value;
    });
    expect(value).toBe('finished');
  });

  it('refuses to start outside a greenlet, and a bad delay with an InvalidArgumentError', () => {
    expect((thrownBy(() => Timeout.startNew(5)) as HubError).code).toBe('ERR_BLOCKING_IN_CALLBACK');
    for (const bad of [-1, Number.NaN, Infinity, '5']) {
      expect(thrownBy(() => new Timeout(bad as number))).toBeInstanceOf(InvalidArgumentError);
    }
  });
});

describeHub('withTimeout', (t) => {
  it('evaluates to what the body returns in time', async () => {
    const { value } = await t.run(function* () {
      return yield* withTimeout(1000, function* () {
        yield* sleep(1);
        return 'in time';
      });
    });
    expect(value).toBe('in time');
  });

  it('raises the Timeout when the body is too slow', async () => {
    const { value } = await t.run(function* () {
      try {
        yield* withTimeout(5, function* () {
          yield* sleep(1000);
        });
      } catch (error) {
        return [error instanceof Timeout, (error as Timeout).ms];
      }
      return [];
    });
    expect(value).toEqual([true, 5]);
  });

  it('evaluates to timeoutValue when the time runs out, even when it is undefined', async () => {
    const { value } = await t.run(function* () {
      const a = yield* withTimeout(
        5,
        function* () {
          yield* sleep(1000);
          return 'late';
        },
        { timeoutValue: 'fallback' },
      );
      const b = yield* withTimeout(
        5,
        function* () {
          yield* sleep(1000);
          return 'late';
        },
        { timeoutValue: undefined },
      );
      return [a, b];
    });
    expect(value).toEqual(['fallback', undefined]);
  });

  it('cancels its timer on every way out: return, exception, kill (the loop closes with no timer left)', async () => {
    const { value } = await t.run(
      function* () {
        const log: string[] = [];
        yield* withTimeout(60_000, function* () {
          log.push('returned');
        });
        try {
          yield* withTimeout(60_000, function* () {
            throw new Error('failed');
          });
        } catch (error) {
          log.push((error as Error).message);
        }
        const victim = spawn(function* () {
          yield* withTimeout(60_000, function* () {
            yield* new Event().wait();
          });
        });
        yield* sleep(0);
        yield* victim.kill();
        log.push(victim.value instanceof GreenletExit ? 'killed' : 'not killed');
        return log;
      },
      { expectReports: false },
    );
    expect(value).toEqual(['returned', 'failed', 'killed']);
  });

  it('lets an inner failure through untouched, and a foreign Timeout too', async () => {
    const { value } = await t.run(function* () {
      const foreign = Timeout.startNew(5);
      try {
        yield* withTimeout(
          1000,
          function* () {
            yield* sleep(500);
          },
          { timeoutValue: 'not ours' },
        );
        return 'no timeout';
      } catch (error) {
        return error === foreign ? 'foreign timeout raised' : 'other';
      } finally {
        foreign.cancel();
      }
    });
    expect(value).toBe('foreign timeout raised');
  });
});
