// Greenlet lifecycles and the hub's drain beyond the basics: kills before start, bodies that are
// not generators, error handlers that throw, the drain handing the loop back in order, destroy
// mid-drain; joinall/killall counts; groups, pools and imap's ends; Timeout restarts.
import { GreenletExit } from '@loop/greenlet';
import { afterEach, expect, it, vi } from 'vitest';
import {
  Event,
  Greenlet,
  Group,
  Pool,
  Timeout,
  getHub,
  joinall,
  killall,
  sleep,
  spawn,
  spawnLater,
  waitPromise,
  withTimeout,
  type HubErrorHandler,
} from '../src/index.js';
import { describeHub, later } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describeHub('greenlet lifecycle', (t) => {
  it('ends a greenlet killed before it started with the exception given: failed, reported, and raised by get()', async () => {
    const boom = new Error('boom');
    const { value, reported } = await t.run(
      function* () {
        const ran: string[] = [];
        const victim = spawn(function* () {
          ran.push('ran');
        });
        yield* victim.kill(boom);
        let raised: unknown;
        try {
          yield* victim.get();
        } catch (error) {
          raised = error;
        }
        yield* sleep(0);
        return [ran, victim.ready, victim.successful, victim.dead, victim.exception === boom, victim.value, raised === boom, victim];
      },
      { expectReports: true },
    );
    expect(value.slice(0, 7)).toEqual([[], true, false, true, true, undefined, true]);
    expect(reported).toEqual([{ error: boom, greenlet: value[7] }]);
  });

  it('ends a greenlet killed before it started successfully, its value the GreenletExit', async () => {
    const { value } = await t.run(function* () {
      const victim = spawn(function* () {});
      victim.kill(undefined, { block: false });
      yield* victim.join();
      return [victim.successful, victim.value instanceof GreenletExit, victim.exception];
    });
    expect(value).toEqual([true, true, undefined]);
  });

  it('ends a running greenlet that catches its kill and returns: successful, with what it returned', async () => {
    const { value } = await t.run(function* () {
      const stubborn = spawn(function* () {
        try {
          yield* sleep(1_000_000);
          return 'slept';
        } catch (error) {
          return error instanceof GreenletExit ? 'caught the kill' : 'caught something else';
        }
      });
      yield* sleep(0);
      yield* stubborn.kill();
      return [stubborn.successful, stubborn.value];
    });
    expect(value).toEqual([true, 'caught the kill']);
  });

  it('returns from kill() at once, without a switch, for a greenlet already finished', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const done = spawn(() => 'done');
      yield* done.join();
      spawn(function* () {
        log.push('other ran');
      });
      yield* done.kill();
      log.push('kill returned');
      yield* sleep(0);
      return [log, done.value];
    });
    expect(value).toEqual([['kill returned', 'other ran'], 'done']);
  });

  it('returns from a kill with a timeout when the greenlet outlives it, leaving it to die later', async () => {
    const { value } = await t.run(function* () {
      const gate = new Event();
      const slow = spawn(function* () {
        try {
          yield* sleep(1_000_000);
        } finally {
          yield* gate.wait();
        }
      });
      yield* sleep(0);
      yield* slow.kill(undefined, { timeout: 1 });
      const afterKill = slow.ready;
      gate.set();
      yield* slow.join();
      return [afterKill, slow.ready];
    });
    expect(value).toEqual([false, true]);
  });

  it('queues a non-blocking kill: the greenlet dies in the hub\'s next drain, not at once', async () => {
    const { value } = await t.run(function* () {
      const victim = spawn(function* () {
        yield* sleep(1_000_000);
      });
      yield* sleep(0);
      victim.kill(undefined, { block: false });
      const atOnce = victim.ready;
      yield* sleep(0);
      return [atOnce, victim.ready];
    });
    expect(value).toEqual([false, true]);
  });

  it('treats a body returning an object with next() but no throw() as a plain value, not a generator', async () => {
    const notAGenerator = { next: () => ({ done: true, value: 'inner' }) };
    const plain = new RangeError('plain');
    const { value, reported } = await t.run(
      function* () {
        const g = spawn(() => notAGenerator);
        const thrower = spawn(() => {
          throw plain;
        });
        yield* joinall([g, thrower]);
        yield* sleep(0);
        return [(g.value as unknown) === notAGenerator, thrower.exception === plain];
      },
      { expectReports: true },
    );
    expect(value).toEqual([true, true]);
    expect(reported.map((r) => r.error)).toEqual([plain]);
  });

  it('names greenlets Greenlet-<n> in the order their names are first asked, and an arrow body anonymous', async () => {
    const { value } = await t.run(function* () {
      const a = spawn(() => 1);
      const b = spawn(() => 2);
      const first = Number(/^Greenlet-(\d+)$/.exec(b.name)?.[1]);
      const second = Number(/^Greenlet-(\d+)$/.exec(a.name)?.[1]);
      yield* joinall([a, b]);
      return [second - first, a.name === a.name, String(a).endsWith(': anonymous>')];
    });
    expect(value).toEqual([1, true, true]);
  });

  it('starts a greenlet spawned later with no delay on the next timer phase, with its arguments', async () => {
    const { value } = await t.run(function* () {
      const g = spawnLater(0, (x: number, y: number) => x + y, 2, 3);
      const h = new Greenlet(getHub(), () => 'later').startLater(undefined as never);
      yield* joinall([g, h]);
      return [g.value, h.value];
    });
    expect(value).toEqual([5, 'later']);
  });

  it('runs every link added after the end once, each in the hub\'s next drain', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const g = spawn(() => 'v');
      yield* g.join();
      g.link(() => log.push('a'));
      g.link(() => log.push('b'));
      g.link(() => log.push('c'));
      log.push('linked');
      yield* sleep(0);
      yield* sleep(0);
      return log;
    });
    expect(value).toEqual(['linked', 'a', 'b', 'c']);
  });

  it('unlinks the first of several links, leaving the others to run', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const a = (): number => log.push('a');
      const b = (): number => log.push('b');
      const g = spawn(function* () {
        yield* sleep(0);
      });
      g.link(a);
      g.link(b);
      g.unlink(a);
      yield* g.join();
      yield* sleep(0);
      return log;
    });
    expect(value).toEqual(['b']);
  });

  it('ends a greenlet whose body returns null successfully, with null', async () => {
    const { value } = await t.run(function* () {
      const g = spawn(() => null);
      yield* g.join();
      return [g.successful, g.value];
    });
    expect(value).toEqual([true, null]);
  });

  it('treats a body returning a function with next() and throw() as a plain value, not a generator', async () => {
    const { value } = await t.run(function* () {
      const result = Object.assign(() => 0, { next: () => ({ done: true, value: 'iterated' }), throw: () => ({ done: true, value: undefined }) });
      const g = spawn(() => result);
      yield* g.join();
      return (g.value as unknown) === result;
    });
    expect(value).toBe(true);
  });

  it('calls a body with no arguments when the Greenlet is made without them', async () => {
    const { value } = await t.run(function* ({ hub }) {
      const g = new Greenlet(hub, (...args: unknown[]) => args.length).start();
      yield* g.join();
      return g.value;
    });
    expect(value).toBe(0);
  });

  it('is dead only once finished, and gives its value to get({ block: false }) then', async () => {
    const { value } = await t.run(function* () {
      const g = spawn(function* () {
        yield* sleep(0);
        return 'v';
      });
      const before = g.dead;
      yield* g.join();
      return [before, g.dead, yield* g.get({ block: false })];
    });
    expect(value).toEqual([false, true, 'v']);
  });

  it('unlinks only the callback named, from one link or many, and ignores one never linked', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const a = (): number => log.push('a');
      const b = (): number => log.push('b');
      const c = (): number => log.push('c');
      const single = spawn(function* () {
        yield* sleep(0);
      });
      single.link(a);
      single.unlink(b); // not linked: nothing changes
      const many = spawn(function* () {
        yield* sleep(0);
      });
      many.link(a);
      many.link(b);
      many.link(c);
      many.unlink(b);
      many.unlink(b);
      yield* joinall([single, many]);
      yield* sleep(0);
      return log;
    });
    expect(value).toEqual(['a', 'a', 'c']);
  });

  it('evaluates a greenlet joined by two waiters to true for both', async () => {
    const { value } = await t.run(function* () {
      const gate = new Event();
      const target = spawn(() => gate.wait());
      const joiners = [0, 1].map(() => spawn(() => target.join()));
      yield* sleep(0);
      gate.set();
      yield* joinall(joiners);
      return joiners.map((j) => j.value);
    });
    expect(value).toEqual([true, true]);
  });
});

describeHub('hub drain and error handler', (t) => {
  it('keeps ready greenlets in order when a drain hands the loop back, and lets a due timer run in between', async () => {
    const { value } = await t.run(
      function* ({ loop }) {
        const log: string[] = [];
        later(loop, 0, () => log.push('timer'));
        const workers = Array.from({ length: 300 }, (_, i) =>
          spawn(function* () {
            log.push(`a${i}`);
            yield* sleep(0);
            log.push(`b${i}`);
          }),
        );
        yield* joinall(workers);
        return log;
      },
      { hub: { switchInterval: 0 } },
    );
    const timerAt = value.indexOf('timer');
    const rest = value.filter((entry) => entry !== 'timer');
    const expected = [...Array.from({ length: 300 }, (_, i) => `a${i}`), ...Array.from({ length: 300 }, (_, i) => `b${i}`)];
    expect(rest).toEqual(expected);
    expect(timerAt).toBeGreaterThan(0);
    expect(timerAt).toBeLessThan(300);
  });

  it('runs every ready greenlet in one drain while the switch interval has not passed, before a loop callback queued meanwhile', async () => {
    const { value } = await t.run(
      function* ({ loop }) {
        const log: string[] = [];
        const called = new Event();
        const workers = Array.from({ length: 200 }, (_, i) =>
          spawn(() => {
            if (i === 0) {
              loop.callSoon(() => {
                log.push('callSoon');
                called.set();
              });
            }
            log.push(`g${i}`);
          }),
        );
        yield* joinall(workers);
        yield* called.wait();
        return log;
      },
      { hub: { switchInterval: 1e9 } }, // never reached: the drain must not hand back early
    );
    expect(value).toEqual([...Array.from({ length: 200 }, (_, i) => `g${i}`), 'callSoon']);
  });

  it('reports each failed greenlet once when drains hand the loop back between failures', async () => {
    const { value, reported } = await t.run(
      function* () {
        const workers = Array.from({ length: 200 }, (_, i) =>
          spawn(() => {
            throw new Error(`e${i}`);
          }),
        );
        yield* joinall(workers);
        return workers.filter((w) => !w.successful).length;
      },
      { hub: { switchInterval: 0 }, expectReports: true },
    );
    expect(value).toBe(200);
    expect(reported.map((r) => (r.error as Error).message)).toEqual(Array.from({ length: 200 }, (_, i) => `e${i}`));
  });

  it('drops the rest of a drain when a greenlet destroys the hub', async () => {
    const context = t.open();
    const log: string[] = [];
    context.hub.spawn(() => {
      log.push('a');
      context.hub.destroy();
    });
    context.hub.spawn(() => log.push('b'));
    await context.loop.run();
    expect(log).toEqual(['a']);
    context.finish();
  });

  it('replaces the error handler and hands back the previous one', async () => {
    const context = t.open({ expectReports: true });
    const mine: unknown[] = [];
    const handler: HubErrorHandler = (error) => mine.push(error);
    const previous = context.hub.setErrorHandler(handler);
    const boom = new Error('boom');
    await context.hub.run(function* () {
      spawn(() => {
        throw boom;
      });
      yield* sleep(0);
      yield* sleep(0);
    });
    expect(context.hub.setErrorHandler(previous)).toBe(handler);
    expect([mine, context.reported]).toEqual([[boom], []]);
    context.finish();
  });

  it('prints an error handler that throws, with the error it was reporting, and goes on', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const context = t.open({
      hub: {
        onError: () => {
          throw new Error('handler broke');
        },
      },
    });
    const value = await context.hub.run(function* () {
      spawn(() => {
        throw new Error('greenlet broke');
      });
      yield* sleep(0);
      yield* sleep(0);
      return 'went on';
    });
    vi.restoreAllMocks();
    expect(value).toBe('went on');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^@loop\/hub: the error handler threw:\nError: handler broke\n[\s\S]*\nwhile reporting:\nError: greenlet broke\n[\s\S]*\n$/);
    context.finish();
  });

  it('prints a thrown non-Error by its text', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const context = t.open({
      hub: {
        onError: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- a non-Error on purpose
          throw 'handler string';
        },
      },
    });
    await context.hub.run(function* () {
      spawn(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a non-Error on purpose
        throw 'greenlet string';
      });
      yield* sleep(0);
      yield* sleep(0);
    });
    vi.restoreAllMocks();
    expect(written).toEqual(['@loop/hub: the error handler threw:\nhandler string\nwhile reporting:\ngreenlet string\n']);
    context.finish();
  });

  it('destroys once: a second destroy() changes nothing, and getHub hands out a new hub', () => {
    const context = t.open();
    expect(context.hub.destroyed).toBe(false);
    context.hub.destroy();
    const fresh = getHub(context.loop);
    context.hub.destroy(); // must not detach the new hub
    expect([context.hub.destroyed, fresh === context.hub, getHub(context.loop) === fresh, fresh.destroyed]).toEqual([true, false, true, false]);
    fresh.destroy();
    context.finish();
  });

  it('evaluates waitPromise on a plain value to the value', async () => {
    const { value } = await t.run(function* () {
      return yield* waitPromise(7);
    });
    expect(value).toBe(7);
  });

  it('treats sleep() without a delay as sleep(0), and refuses null', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      spawn(function* () {
        log.push('other');
      });
      yield* sleep();
      log.push('back');
      let code: unknown;
      try {
        sleep(null as never);
      } catch (error) {
        code = [(error as { code: string }).code, (error as Error).message];
      }
      return [log, code];
    });
    expect(value).toEqual([['other', 'back'], ['ERR_INVALID_ARG', 'ms must be a number of ms, got null']]);
  });
});

describeHub('joinall and killall counts', (t) => {
  it('returns from joinall once count greenlets finished, counting those already done, and at once with count 0', async () => {
    const { value } = await t.run(function* () {
      const gate = new Event();
      const done = spawn(() => 'done');
      yield* done.join();
      const waiting = [0, 1, 2].map((i) =>
        spawn(function* () {
          if (i > 0) yield* gate.wait();
          return i;
        }),
      );
      const two = yield* joinall([done, ...waiting], { count: 2 });
      const zero = yield* joinall(waiting, { count: 0 });
      gate.set();
      const all = yield* joinall(waiting);
      return [two.map((g) => g.value), zero.length, all.length];
    });
    expect(value).toEqual([['done', 0], 1, 3]); // count 0: at once, with the one already finished
  });

  it('raises the failure of a greenlet already dead at once with raiseError', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const failed = spawn(() => {
          throw boom;
        });
        yield* failed.join();
        try {
          yield* joinall([failed], { raiseError: true });
          return 'no raise';
        } catch (error) {
          return error === boom;
        }
      },
      { expectReports: true },
    );
    expect(value).toBe(true);
  });

  it('returns from a non-blocking killall at once; the greenlets die in the next drain', async () => {
    const { value } = await t.run(function* () {
      const victims = [0, 1].map(() => spawn(() => sleep(1_000_000)));
      yield* sleep(0);
      yield* killall(victims, undefined, { block: false });
      const atOnce = victims.map((v) => v.ready);
      yield* sleep(0);
      yield* killall(victims); // all dead: nothing to wait for
      return [atOnce, victims.map((v) => v.ready)];
    });
    expect(value).toEqual([
      [false, false],
      [true, true],
    ]);
  });
});

describeHub('groups, pools and imap ends', (t) => {
  it('tracks members: has, length, iteration, a second add ignored, and discard', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const gate = new Event();
      const a = group.spawn(() => gate.wait());
      const b = spawn(() => gate.wait());
      group.add(b);
      group.add(b);
      const state = [group.length, group.has(a), group.has(b), [...group].length];
      group.discard(b);
      group.discard(b);
      const after = [group.length, group.has(b)];
      gate.set();
      yield* group.join();
      yield* b.join();
      return [state, after, group.length];
    });
    expect(value).toEqual([[2, true, true, 2], [1, false], 0]);
  });

  it('joins an empty group at once, and with raiseError too', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      return [yield* group.join(), yield* group.join({ raiseError: true }), yield* group.join({ timeout: 1 })];
    });
    expect(value).toEqual([true, true, true]);
  });

  it('evaluates a group join to false when members outlive its timeout', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const gate = new Event();
      group.spawn(() => gate.wait());
      const early = yield* group.join({ timeout: 1 });
      gate.set();
      return [early, yield* group.join()];
    });
    expect(value).toEqual([false, true]);
  });

  it('kills a group without waiting when told not to block', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const member = group.spawn(() => sleep(1_000_000));
      yield* sleep(0);
      yield* group.kill(undefined, { block: false });
      const atOnce = member.ready;
      yield* group.join();
      return [atOnce, member.ready, group.length];
    });
    expect(value).toEqual([false, true, 0]);
  });

  it('counts a pool\'s free places and fullness as members come and go', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(2);
      const gate = new Event();
      const states = [[pool.freeCount(), pool.full()]];
      yield* pool.spawn(() => gate.wait());
      states.push([pool.freeCount(), pool.full()]);
      yield* pool.spawn(() => gate.wait());
      states.push([pool.freeCount(), pool.full()]);
      gate.set();
      yield* pool.join();
      states.push([pool.freeCount(), pool.full()]);
      return states;
    });
    expect(value).toEqual([
      [2, false],
      [1, false],
      [0, true],
      [2, false],
    ]);
  });

  it('adds a running greenlet to a pool once there is room, and ignores a finished or present one', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(1);
      const gate = new Event();
      const first = spawn(() => gate.wait());
      yield* pool.add(first);
      yield* pool.add(first);
      const finished = spawn(() => 'x');
      yield* finished.join();
      yield* pool.add(finished);
      const second = spawn(() => gate.wait());
      const adder = spawn(() => pool.add(second));
      yield* sleep(0);
      const waiting = [pool.has(second), pool.length, pool.has(finished)];
      gate.set();
      yield* adder.join();
      yield* pool.join();
      return [waiting, pool.length];
    });
    expect(value).toEqual([[false, 1, false], 0]);
  });

  it('ends imap at once over no items, and raises from next() an exception of the items\' iterator', async () => {
    const broken = new Error('items broke');
    const { value, reported } = await t.run(function* () {
      const group = new Group();
      const empty = yield* group.map((x: number) => x, []);
      const items = (function* () {
        yield 1;
        throw broken;
      })();
      const results = group.imap((x: number) => x * 10, items);
      const seen: unknown[] = [];
      try {
        for (;;) {
          const next = yield* results.next();
          if (next.done === true) break;
          seen.push(next.value);
        }
      } catch (error) {
        seen.push(error === broken ? 'raised' : error);
      }
      const after = yield* results.next();
      yield* group.join();
      yield* sleep(0);
      return [empty, seen, after.done];
    }, { expectReports: true });
    expect(reported.map((r) => r.error)).toEqual([broken]); // the feeder greenlet died of it
    expect(value[0]).toEqual([]);
    expect((value[1] as unknown[]).at(-1)).toBe('raised');
    expect(value[2]).toBe(true);
  });

  it('ends imap after a member failed: next() raises it once, then reports done', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const group = new Group();
        const results = group.imapUnordered((x: number) => {
          if (x === 2) throw boom;
          return x;
        }, [2]);
        let raised: unknown;
        try {
          yield* results.next();
        } catch (error) {
          raised = error;
        }
        const after = yield* results.next();
        yield* group.join();
        return [raised === boom, after];
      },
      { expectReports: true },
    );
    expect(value).toEqual([true, { value: undefined, done: true }]);
  });
});

describeHub('Timeout restarts and withTimeout options', (t) => {
  it('restarts a Timeout started again, from the second start', async () => {
    const { value } = await t.run(function* () {
      const timeout = new Timeout(1_000_000);
      timeout.start();
      const pendingFirst = timeout.pending;
      timeout.start(); // the first timer is released, not leaked
      timeout.cancel();
      timeout.cancel();
      const none = Timeout.startNew();
      return [pendingFirst, timeout.pending, none.pending];
    });
    expect(value).toEqual([true, false, false]);
  });

  it('re-raises the Timeout from withTimeout when options are given without timeoutValue', async () => {
    const { value } = await t.run(function* () {
      try {
        yield* withTimeout(
          1,
          function* () {
            yield* sleep(1_000_000);
          },
          {},
        );
        return 'no raise';
      } catch (error) {
        return error instanceof Timeout ? 'Timeout' : error;
      }
    });
    expect(value).toBe('Timeout');
  });
});
