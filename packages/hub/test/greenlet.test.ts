// Greenlet objects: join, get, kill, links, names, promises, spawnLater.
import { GreenletExit, getcurrent } from '@loop/greenlet';
import { expect, it } from 'vitest';
import { AsyncResult, Event, HubError, InvalidArgumentError, Timeout, getHub, joinall, sleep, spawn, spawnLater, type Greenlet } from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

describeHub('Greenlet', (t) => {
  it('joins: true once the greenlet has finished, false when the timeout comes first', async () => {
    const { value } = await t.run(function* () {
      const release = new Event();
      const slow = spawn(function* () {
        yield* release.wait();
      });
      const early = yield* slow.join(1);
      release.set();
      const late = yield* slow.join();
      const again = yield* slow.join(); // already finished: at once
      return [early, late, again, slow.ready];
    });
    expect(value).toEqual([false, true, true, true]);
  });

  it('gets the value, raises the exception, or raises a Timeout when there is none yet', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const ok = spawn(function* (x: number) {
          yield* sleep(1);
          return x * 2;
        }, 21);
        const bad = spawn(function* () {
          yield* sleep(1);
          throw boom;
        });
        const outcomes: unknown[] = [];
        try {
          yield* ok.get({ block: false });
        } catch (error) {
          outcomes.push(error instanceof Timeout, (error as Timeout).code);
        }
        try {
          yield* ok.get({ timeout: 0 });
        } catch (error) {
          outcomes.push(error instanceof Timeout);
        }
        outcomes.push(yield* ok.get());
        try {
          yield* bad.get();
        } catch (error) {
          outcomes.push(error === boom);
        }
        return outcomes;
      },
      { expectReports: true },
    );
    expect(value).toEqual([true, 'ERR_HUB_TIMEOUT', true, 42, true]);
  });

  it('kills: the greenlet runs its finally blocks, and kill() returns once it is dead', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const victim = spawn(function* () {
        try {
          yield* sleep(60_000); // its timer must be released: loop.close() checks
        } finally {
          log.push('victim finally');
          yield* sleep(1); // a finally block may block too
          log.push('victim finally done');
        }
      });
      yield* sleep(0);
      yield* victim.kill();
      log.push('kill returned');
      return { log, ready: victim.ready, successful: victim.successful, exit: victim.value instanceof GreenletExit };
    });
    expect(value).toEqual({ log: ['victim finally', 'victim finally done', 'kill returned'], ready: true, successful: true, exit: true });
  });

  it('kills with a given exception, which counts as a failure and is reported', async () => {
    const reason = new Error('stop it');
    const { value, reported } = await t.run(
      function* () {
        const victim = spawn(function* () {
          yield* new Event().wait();
        });
        yield* sleep(0);
        yield* victim.kill(reason);
        yield* sleep(0);
        return victim;
      },
      { expectReports: true },
    );
    expect(value.exception).toBe(reason);
    expect(reported).toEqual([{ error: reason, greenlet: value }]);
  });

  it('never runs a greenlet killed before it started, and still runs its links', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const never = spawn(function* () {
        log.push('ran');
      });
      never.link(() => log.push('linked'));
      never.kill(undefined, { block: false });
      yield* sleep(0);
      return { log, ready: never.ready, started: never.started };
    });
    expect(value).toEqual({ log: ['linked'], ready: true, started: false });
  });

  it('never runs a greenlet spawned later and killed before its time, and releases its timer', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const later = spawnLater(60_000, function* () {
        log.push('ran');
      });
      yield* later.kill();
      return [log, later.ready];
    });
    expect(value).toEqual([[], true]);
  });

  it('starts a greenlet spawned later once its time has come', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const later = spawnLater(10, function* () {
        log.push('later');
      });
      spawn(function* () {
        log.push('now');
      });
      yield* later.join();
      return log;
    });
    expect(value).toEqual(['now', 'later']);
  });

  it('kills from main code (a loop callback) with block: false, and refuses a blocking kill there', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const victim = spawn(function* () {
        yield* sleep(60_000);
      });
      let refused = '';
      const timer = loop.timer(() => {
        refused = (thrownBy(() => victim.kill()) as HubError).code;
        victim.kill(undefined, { block: false });
      });
      timer.start(1);
      yield* victim.join();
      timer.close();
      return [refused, victim.ready, victim.value instanceof GreenletExit];
    });
    expect(value).toEqual(['ERR_BLOCKING_IN_CALLBACK', true, true]);
  });

  it('raises the kill in a greenlet that kills itself: at once with block, at its next switch without', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const blocking = spawn(function* () {
        try {
          yield* (getcurrent() as Greenlet).kill();
          log.push('after blocking kill');
        } catch (error) {
          log.push(`blocking: ${(error as GreenletExit).name}`);
          throw error;
        }
      });
      const later = spawn(function* () {
        (getcurrent() as Greenlet).kill(undefined, { block: false });
        log.push('still running');
        try {
          yield* sleep(0);
          log.push('after sleep');
        } catch (error) {
          log.push(`next switch: ${(error as GreenletExit).name}`);
          throw error;
        }
      });
      yield* joinall([blocking, later]);
      return log;
    });
    expect(value).toEqual(['still running', 'blocking: GreenletExit', 'next switch: GreenletExit']);
  });

  it('runs links once finished, in order; links added later run too; unlink removes one', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const g = spawn(function* () {
        yield* sleep(0);
        return 'v';
      });
      const removed = (): number => log.push('removed');
      g.link((x) => log.push(`first ${String(x.value)}`));
      g.link(removed);
      g.link(() => log.push('second'));
      g.unlink(removed);
      yield* g.join();
      g.link(() => log.push('after the end'));
      yield* sleep(0);
      return log;
    });
    expect(value).toEqual(['first v', 'second', 'after the end']);
  });

  it('names greenlets Greenlet-<n> by default, takes assigned names, and prints like gevent', async () => {
    const { value } = await t.run(function* () {
      const a = spawn(function* worker() {});
      const b = spawn(function* () {});
      b.name = 'custom';
      yield* joinall([a, b]);
      return [a.name, a.name, String(a), String(b)];
    });
    expect(value[0]).toMatch(/^Greenlet-\d+$/);
    expect(value[1]).toBe(value[0]);
    expect(value[2]).toBe(`<Greenlet "${value[0]}": worker>`);
    expect(value[3]).toBe('<Greenlet "custom": anonymous>');
  });

  it('gives async code a promise of the result', async () => {
    const context = t.open({ expectReports: true });
    const ok = context.hub.spawn(function* () {
      yield* sleep(1);
      return 'value';
    });
    const boom = new Error('boom');
    const bad = context.hub.spawn(function* () {
      throw boom;
    });
    const settled = Promise.allSettled([ok.promise(), bad.promise()]);
    await context.loop.run();
    expect(await settled).toEqual([
      { status: 'fulfilled', value: 'value' },
      { status: 'rejected', reason: boom },
    ]);
    context.finish();
  });

  it('refuses to start a greenlet twice with ERR_HUB_ALREADY_STARTED', async () => {
    const { value } = await t.run(function* () {
      const g = spawn(function* () {});
      const error = thrownBy(() => g.start());
      yield* g.join();
      return (error as HubError).code;
    });
    expect(value).toBe('ERR_HUB_ALREADY_STARTED');
  });

  it('treats a plain function as a body that runs to its end at once', async () => {
    const { value } = await t.run(function* () {
      const g = spawn((a: number, b: number) => a * b, 6, 7);
      return yield* g.get();
    });
    expect(value).toBe(42);
  });

  it('refuses a body that is not a function with an InvalidArgumentError (a TypeError)', () => {
    const context = t.open();
    const error = thrownBy(() => (context.hub.spawn as (fn: unknown) => unknown).call(context.hub, 42));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARG');
    context.finish();
  });

  it('hands a joiner the end of the greenlet it joined even when another waiter was woken first', async () => {
    const { value } = await t.run(function* () {
      const done = new AsyncResult<string>();
      const worker = spawn(function* () {
        yield* sleep(1);
        done.set('worker done');
        return 'result';
      });
      const observer = spawn(function* () {
        return yield* done.get();
      });
      const result = yield* worker.get();
      return [result, yield* observer.get()];
    });
    expect(value).toEqual(['result', 'worker done']);
  });

  it('uses getHub() inside a greenlet for the hub that runs it', async () => {
    const { value } = await t.run(function* ({ hub }) {
      return getHub() === hub;
    });
    expect(value).toBe(true);
  });
});

