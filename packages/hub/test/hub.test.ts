// The hub: spawning, sleeping, where greenlets run, run(), errors, and the traps of the
// greenlet primitive (parents, stale wake-ups, blocking outside a greenlet).
import { EventLoopError } from '@loop/core';
import { getcurrent, getmain, greenlet as rawGreenlet } from '@loop/greenlet';
import { expect, it } from 'vitest';
import {
  AsyncResult,
  Channel,
  Event,
  Group,
  GreenletFailure,
  Hub,
  HubError,
  InvalidArgumentError,
  Lock,
  Pool,
  Queue,
  RLock,
  Semaphore,
  Timeout,
  getHub,
  joinall,
  killall,
  run,
  sleep,
  spawn,
  waitPromise,
  withLock,
  withTimeout,
  type Greenlet,
} from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

/** The phases that follow the poll, in order, as the test above records them. */
function loopPhasesAfterPoll(check: boolean): string[] {
  return check ? ['check phase', 'timer phase'] : ['timer phase'];
}

describeHub('hub', (t) => {
  it('starts spawned greenlets in spawn order, after the spawner blocks', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const a = spawn(function* () {
        log.push('a');
      });
      const b = spawn(function* () {
        log.push('b');
      });
      log.push('spawned');
      yield* joinall([a, b]);
      return log;
    });
    expect(value).toEqual(['spawned', 'a', 'b']);
  });

  it('makes spawned greenlets children of the hub (the main greenlet), not of their spawner', async () => {
    const { value } = await t.run(function* () {
      const child = spawn(function* () {
        return getcurrent().parent;
      });
      yield* child.join();
      return [child.parent === getmain(), child.value === getmain()];
    });
    expect(value).toEqual([true, true]);
  });

  it('never resumes an unrelated waiter when a greenlet dies', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const never = new Event();
      const go = new Event();
      const spawner = spawn(function* () {
        spawn(function* () {
          log.push('child ends');
          return 'child value';
        });
        log.push('spawner waits');
        yield* go.wait(); // the child's death must not end this wait
        log.push('spawner woken by go');
      });
      yield* sleep(1);
      log.push('main sets go');
      go.set();
      yield* spawner.join();
      never.set();
      return log;
    });
    expect(value).toEqual(['spawner waits', 'child ends', 'main sets go', 'spawner woken by go']);
  });

  it('lets every other ready greenlet run on sleep(0), then returns', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const body = function* (name: string) {
        log.push(`${name}1`);
        yield* sleep(0);
        log.push(`${name}2`);
        yield* sleep();
        log.push(`${name}3`);
      };
      yield* joinall([spawn(body, 'a'), spawn(body, 'b'), spawn(body, 'c')]);
      return log;
    });
    expect(value).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3']);
  });

  it('runs the greenlets made ready by sleep(0) before the loop polls, and timers after the poll', async () => {
    const { value } = await t.run(function* ({ loop }) {
      const log: string[] = [];
      const timerRan = new AsyncResult<void>();
      const check = loop.capabilities.check ? loop.check((hook) => {
        log.push('check phase');
        hook.stop();
      }) : undefined;
      check?.start();
      const timer = loop.timer(() => {
        log.push('timer phase');
        timerRan.set();
      });
      timer.start(0);
      const body = function* (name: string) {
        for (let i = 0; i < 3; i++) {
          log.push(`${name}${i}`);
          yield* sleep(0);
        }
      };
      yield* joinall([spawn(body, 'a'), spawn(body, 'b')]);
      log.push('joined');
      yield* timerRan.get();
      check?.close();
      timer.close();
      return log;
    });
    const phases = loopPhasesAfterPoll(t.backend.capabilities.check);
    expect(value).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'joined', ...phases]);
  });

  it('wakes sleepers in the order of their deadlines, from the timer phase', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const sleeper = function* (ms: number) {
        yield* sleep(ms);
        log.push(`${ms}`);
      };
      // Each sleep counts from the clock when it starts (gevent refreshes it too), so the gaps are
      // kept far above the time between the three starts.
      yield* joinall([spawn(sleeper, 120), spawn(sleeper, 40), spawn(sleeper, 80)]);
      return log;
    });
    expect(value).toEqual(['40', '80', '120']);
  });

  it('hands the loop back after the switch interval, so a greenlet spinning on sleep(0) cannot starve timers', async () => {
    const { value } = await t.run(
      function* ({ loop }) {
        let stop = false;
        let spins = 0;
        const timer = loop.timer(() => {
          stop = true;
        });
        timer.start(0);
        while (!stop) {
          spins++;
          yield* sleep(0);
        }
        timer.close();
        return spins;
      },
      { hub: { switchInterval: 1 } },
    );
    expect(value).toBeGreaterThan(0);
  });

  it('ignores a wake-up that arrives after its waiter moved on', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const late = new Event();
      const gaveUp = new Event();
      const release = new Event();
      const waiter = spawn(function* () {
        const woken = yield* late.wait(1); // times out: the registration goes stale
        log.push(`wait ended ${String(woken)}`);
        gaveUp.set();
        yield* release.wait(); // the late set() below must not end this wait
        log.push('released');
      });
      yield* gaveUp.wait();
      late.set();
      log.push('late set');
      yield* sleep(0); // a drain: a wrong wake-up would run the waiter here
      yield* sleep(0);
      log.push('main after two drains');
      release.set();
      yield* waiter.join();
      return log;
    });
    expect(value).toEqual(['wait ended false', 'late set', 'main after two drains', 'released']);
  });

  it('runs the main greenlet of run() to its end and resolves with its value', async () => {
    const { value } = await t.run(function* () {
      yield* sleep(1);
      return 'done';
    });
    expect(value).toBe('done');
  });

  it('rejects run() with the exception the main greenlet died of, without reporting it', async () => {
    const context = t.open();
    const boom = new Error('boom');
    await expect(
      context.hub.run(function* () {
        yield* sleep(0);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(context.reported).toEqual([]);
    context.finish();
  });

  it('raises ERR_HUB_LOOP_EXIT in a main greenlet that nothing can wake, running its finally blocks', async () => {
    const context = t.open();
    const log: string[] = [];
    const error = await context.hub
      .run(function* () {
        try {
          yield* new Event().wait();
        } finally {
          log.push('finally');
        }
      })
      .catch((caught: unknown) => caught);
    expect((error as HubError).code).toBe('ERR_HUB_LOOP_EXIT');
    expect(log).toEqual(['finally']);
    context.finish();
  });

  it('raises ERR_HUB_LOOP_EXIT in the main greenlet only once: blocking again with nothing left rejects run() with it', async () => {
    const context = t.open();
    const log: string[] = [];
    const error = await context.hub
      .run(function* () {
        for (let round = 0; round < 2; round++) {
          try {
            yield* new Event().wait();
          } catch (caught) {
            log.push(`caught ${(caught as HubError).code}`);
          }
        }
        return 'raised twice';
      })
      .catch((caught: unknown) => caught);
    expect([(error as HubError).code, log]).toEqual(['ERR_HUB_LOOP_EXIT', ['caught ERR_HUB_LOOP_EXIT']]);
    context.finish();
  });

  it('refuses sleep() in a greenlet whose hub was destroyed, with ERR_HUB_DESTROYED, starting no timer', async () => {
    const context = t.open();
    const seen: unknown[] = [];
    context.hub.spawn(function* () {
      context.hub.destroy();
      try {
        yield* sleep(1);
        seen.push('slept');
      } catch (error) {
        seen.push((error as HubError).code);
      }
    });
    await context.loop.run();
    expect(seen).toEqual(['ERR_HUB_DESTROYED']);
    context.finish();
  });

  it('refuses run() while the loop runs, synchronously, with ERR_LOOP_RUNNING', async () => {
    const { value } = await t.run(function* ({ hub }) {
      const error = thrownBy(() => hub.run(function* () {}));
      return [error instanceof EventLoopError, (error as EventLoopError).code];
    });
    expect(value).toEqual([true, 'ERR_LOOP_RUNNING']);
  });

  it('runs a main greenlet with run(loop, fn, ...args) on the loop\'s hub', async () => {
    const loop = t.backend.createLoop();
    const value = await run(
      loop,
      function* (a: number, b: number) {
        yield* sleep(0);
        return [a + b, getHub() === getHub(loop)];
      },
      2,
      3,
    );
    expect(value).toEqual([5, true]);
    getHub(loop).destroy();
    loop.close();
  });

  it('gives one hub per loop through getHub(loop), and a new one after destroy()', () => {
    const loop = t.backend.createLoop();
    const hub = getHub(loop);
    expect(getHub(loop)).toBe(hub);
    const refused = thrownBy(() => new Hub(loop));
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    hub.destroy();
    expect(hub.destroyed).toBe(true);
    const fresh = getHub(loop);
    expect(fresh).not.toBe(hub);
    expect((thrownBy(() => hub.spawn(function* () {})) as HubError).code).toBe('ERR_HUB_DESTROYED');
    fresh.destroy();
    loop.close();
  });

  it('drops work queued on a destroyed hub', async () => {
    const context = t.open();
    const log: string[] = [];
    context.hub.spawn(function* () {
      log.push('ran');
    });
    context.hub.destroy();
    await context.loop.run();
    expect(log).toEqual([]);
    context.finish();
  });

  it('throws ERR_HUB_NO_CURRENT_HUB for spawn and getHub() outside every hub greenlet', () => {
    expect((thrownBy(() => spawn(function* () {})) as HubError).code).toBe('ERR_HUB_NO_CURRENT_HUB');
    expect((thrownBy(() => getHub()) as HubError).code).toBe('ERR_HUB_NO_CURRENT_HUB');
  });

  it('throws ERR_BLOCKING_IN_CALLBACK for every blocking call made in main code', () => {
    const calls: [string, () => unknown][] = [
      ['sleep', () => sleep(10)],
      ['sleep(0)', () => sleep(0)],
      ['Event.wait', () => new Event().wait()],
      ['set Event.wait', () => {
        const event = new Event();
        event.set();
        return event.wait();
      }],
      ['AsyncResult.get', () => new AsyncResult().get()],
      ['Queue.get', () => new Queue().get()],
      ['Queue.put', () => new Queue().put(1)],
      ['Lock.acquire', () => new Lock().acquire()],
      ['waitPromise', () => waitPromise(Promise.resolve(1))],
      ['withTimeout', () => withTimeout(10, function* () {})],
      ['Timeout.start', () => new Timeout(10).start()],
      ['joinall', () => joinall([])],
      ['killall', () => killall([])],
      ['AsyncResult.wait', () => new AsyncResult().wait()],
      ['Queue.join', () => new Queue().join()],
      ['Channel.get', () => new Channel().get()],
      ['Semaphore.wait', () => new Semaphore(0).wait()],
      ['RLock.acquire', () => new RLock().acquire()],
      ['RLock.release', () => new RLock().release()],
      ['withLock', () => withLock(new Lock(), function* () {})],
      ['Group.join', () => new Group().join()],
      ['Group.kill', () => new Group().kill()],
      ['Pool.spawn', () => new Pool(1).spawn(function* () {})],
      ['Pool.waitAvailable', () => new Pool(1).waitAvailable()],
    ];
    for (const [name, call] of calls) {
      const error = thrownBy(call);
      expect([name, (error as HubError).code]).toEqual([name, 'ERR_BLOCKING_IN_CALLBACK']);
      expect(error).toBeInstanceOf(EventLoopError);
    }
  });

  it('throws ERR_BLOCKING_IN_CALLBACK for a blocking call made in a loop callback, and the loop goes on', async () => {
    const { value } = await t.run(function* ({ loop, hub }) {
      const codes: string[] = [];
      const done = new AsyncResult<void>();
      const joined = hub.spawn(function* () {
        yield* sleep(50);
      });
      const timer = loop.timer(() => {
        for (const call of [() => sleep(1), () => joined.join(), () => joined.kill()]) {
          try {
            call();
            codes.push('returned');
          } catch (error) {
            codes.push((error as HubError).code);
          }
        }
        joined.kill(undefined, { block: false });
        done.set();
      });
      timer.start(1);
      yield* done.get();
      yield* joined.join();
      timer.close();
      return codes;
    });
    expect(value).toEqual(['ERR_BLOCKING_IN_CALLBACK', 'ERR_BLOCKING_IN_CALLBACK', 'ERR_BLOCKING_IN_CALLBACK']);
  });

  it('throws ERR_HUB_RAW_GREENLET for a blocking call in a greenlet the hub did not spawn', async () => {
    const { value } = await t.run(function* () {
      let code = '';
      const raw = rawGreenlet(function* () {
        try {
          yield* sleep(1);
        } catch (error) {
          code = (error as HubError).code;
        }
      });
      yield* raw.switch();
      return code;
    });
    expect(value).toBe('ERR_HUB_RAW_GREENLET');
  });

  it('reports a greenlet that died of an exception once, with the greenlet, and keeps the exception for get()', async () => {
    const boom = new Error('boom');
    const { value, reported, loopErrors } = await t.run(
      function* () {
        const failing = spawn(function* () {
          yield* sleep(1); // resumed by a timer callback: the exception must not reach it
          throw boom;
        });
        yield* failing.join();
        let caught: unknown;
        try {
          yield* failing.get();
        } catch (error) {
          caught = error;
        }
        yield* sleep(0); // the report is made from the hub's queue
        return { caught, failing, exception: failing.exception, successful: failing.successful };
      },
      { expectReports: true },
    );
    expect(value.caught).toBe(boom);
    expect(value.exception).toBe(boom);
    expect(value.successful).toBe(false);
    expect(reported).toEqual([{ error: boom, greenlet: value.failing }]);
    expect(loopErrors).toEqual([]);
  });

  it('passes failures to the loop\'s error handler by default, as a GreenletFailure whose stack ends the way gevent prints it', async () => {
    const loopErrors: { error: unknown; phase: string }[] = [];
    const loop = t.backend.createLoop({ onError: (error, phase) => loopErrors.push({ error, phase }) });
    const hub = new Hub(loop);
    const boom = new TypeError('bad thing');
    const value = await hub.run(function* () {
      const failing = spawn(function fetchPage() {
        throw boom;
      });
      failing.name = 'fetcher';
      yield* failing.join();
      yield* sleep(0);
      return failing;
    });
    hub.destroy();
    loop.close();
    expect(loopErrors).toHaveLength(1);
    const failure = loopErrors[0]?.error as GreenletFailure;
    expect(failure).toBeInstanceOf(GreenletFailure);
    expect(failure).toBeInstanceOf(EventLoopError);
    expect(failure.code).toBe('ERR_HUB_GREENLET_FAILED');
    expect(failure.cause).toBe(boom);
    expect(failure.greenlet).toBe(value);
    expect(loopErrors[0]?.phase).toBe('pending');
    expect(failure.stack?.startsWith(boom.stack as string)).toBe(true);
    expect(failure.stack?.endsWith('\n<Greenlet "fetcher": fetchPage> failed with TypeError')).toBe(true);
  });

  it('reports a link callback that throws, without a greenlet, and runs the other links', async () => {
    const oops = new Error('oops');
    const { value, reported } = await t.run(
      function* () {
        const log: string[] = [];
        const g = spawn(function* () {});
        g.link(() => {
          throw oops;
        });
        g.link(() => log.push('second link'));
        yield* g.join();
        return log;
      },
      { expectReports: true },
    );
    expect(value).toEqual(['second link']);
    expect(reported).toEqual([{ error: oops, greenlet: undefined }]);
  });

  it('keeps a hub greenlet\'s state across many greenlets and switches (a million switches, constant stack)', async () => {
    const { value } = await t.run(function* () {
      let total = 0;
      const counter = function* () {
        for (let i = 0; i < 1000; i++) {
          total++;
          yield* sleep(0);
        }
      };
      const workers: Greenlet[] = [];
      for (let i = 0; i < 100; i++) workers.push(spawn(counter));
      yield* joinall(workers);
      return total;
    });
    expect(value).toBe(100_000);
  });
});
