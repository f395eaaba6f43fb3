// Group, Pool, map/imap, joinall and killall.
import { GreenletExit } from '@loop/greenlet';
import { expect, it } from 'vitest';
import { Event, Group, HubError, Pool, Timeout, joinall, killall, sleep, spawn, type Greenlet } from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

describeHub('Group', (t) => {
  it('holds its members until they finish, and join() waits until it is empty', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const log: string[] = [];
      const go = { a: new Event(), b: new Event() };
      for (const name of ['a', 'b'] as const) {
        group.spawn(function* () {
          yield* go[name].wait();
          log.push(`${name} done`);
        });
      }
      const sizeBefore = group.length;
      spawn(function* () {
        go.b.set(); // b first...
        yield* sleep(0); // b ends here
        yield* sleep(0); // and leaves the group here (its link runs in the hub)
        log.push(`after b: ${group.length} left`);
        go.a.set(); // ...then a
      });
      const empty = yield* group.join();
      return [sizeBefore, log, empty, group.length];
    });
    expect(value).toEqual([2, ['b done', 'after b: 1 left', 'a done'], true, 0]);
  });

  it('kills every member, which run their finally blocks before kill() returns', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const log: string[] = [];
      for (const name of ['a', 'b']) {
        group.spawn(function* () {
          try {
            yield* sleep(60_000);
          } finally {
            yield* sleep(1);
            log.push(`${name} cleaned up`);
          }
        });
      }
      yield* sleep(0);
      yield* group.kill();
      log.push('kill returned');
      return [log, group.length];
    });
    expect(value).toEqual([['a cleaned up', 'b cleaned up', 'kill returned'], 0]);
  });

  it('kills its members before their owner finishes tearing down', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const owner = spawn(function* () {
        const group = new Group();
        try {
          for (const name of ['child 1', 'child 2']) {
            group.spawn(function* () {
              try {
                yield* new Event().wait();
              } finally {
                log.push(`${name} finally`);
              }
            });
          }
          yield* sleep(60_000);
        } finally {
          yield* group.kill();
          log.push('owner torn down');
        }
      });
      yield* sleep(0);
      yield* owner.kill();
      log.push('owner dead');
      return log;
    });
    expect(value).toEqual(['child 1 finally', 'child 2 finally', 'owner torn down', 'owner dead']);
  });

  it('raises the first failure from join({ raiseError }) once empty', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const group = new Group();
        group.spawn(function* () {
          yield* sleep(1);
          throw boom;
        });
        group.spawn(function* () {
          yield* sleep(2);
        });
        try {
          yield* group.join({ raiseError: true });
        } catch (error) {
          return [error === boom, group.length];
        }
        return [];
      },
      { expectReports: true },
    );
    expect(value).toEqual([true, 0]);
  });

  it('maps in item order, and streams results with imap (item order) and imapUnordered (completion order)', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      // Each item's greenlet finishes when its event is set; a director sets them in the order
      // c, a, b, one per drain, so the completion order is known without timing anything.
      const run = function* (items: string[], read: (events: Record<string, Event>) => Generator<unknown, string[], unknown>) {
        const events: Record<string, Event> = {};
        for (const item of items) events[item] = new Event();
        spawn(function* () {
          for (const item of ['c', 'a', 'b']) {
            yield* sleep(0);
            (events[item] as Event).set();
          }
        });
        return yield* read(events);
      };
      const finishWhenSet = (events: Record<string, Event>) =>
        function* (item: string) {
          yield* (events[item] as Event).wait();
          return item;
        };
      const mapped = yield* run(['a', 'b', 'c'], function* (events) {
        return yield* group.map(finishWhenSet(events), ['a', 'b', 'c']);
      });
      const ordered = yield* run(['a', 'b', 'c'], function* (events) {
        const out: string[] = [];
        const results = group.imap(finishWhenSet(events), ['a', 'b', 'c']);
        for (let r = yield* results.next(); r.done !== true; r = yield* results.next()) out.push(r.value);
        return out;
      });
      const unordered = yield* run(['a', 'b', 'c'], function* (events) {
        const out: string[] = [];
        const results = group.imapUnordered(finishWhenSet(events), ['a', 'b', 'c']);
        for (let r = yield* results.next(); r.done !== true; r = yield* results.next()) out.push(r.value);
        return out;
      });
      return [mapped, ordered, unordered];
    });
    expect(value).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
      ['c', 'a', 'b'],
    ]);
  });

  it('raises from map the exception of the first item whose greenlet failed', async () => {
    const bad = new Error('item 2');
    const { value } = await t.run(
      function* () {
        const group = new Group();
        try {
          yield* group.map(
            function* (n: number) {
              yield* sleep(n);
              if (n === 2) throw bad;
              return n;
            },
            [1, 2, 3],
          );
        } catch (error) {
          yield* group.join();
          return error === bad;
        }
        return false;
      },
      { expectReports: true },
    );
    expect(value).toBe(true);
  });

  it('spawns from main code on the hub it was given, and refuses without one', async () => {
    const context = t.open();
    const group = new Group(context.hub);
    const member = group.spawn(function* () {
      return 'ran';
    });
    expect((thrownBy(() => new Group().spawn(function* () {})) as HubError).code).toBe('ERR_HUB_NO_CURRENT_HUB');
    await context.loop.run();
    expect([member.value, group.length]).toEqual(['ran', 0]);
    context.finish();
  });
});

describeHub('Group kill and join edges', (t) => {
  it('returns true from join({ raiseError }) when every member succeeded', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      group.spawn(() => 1);
      group.spawn(function* () {
        yield* sleep(0);
        return 2;
      });
      return yield* group.join({ raiseError: true });
    });
    expect(value).toBe(true);
  });

  it('kills every member with the exception given to kill()', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const stop = new Error('stop');
      const member = group.spawn(function* () {
        yield* new Event().wait();
      });
      yield* sleep(0);
      yield* group.kill(stop);
      return member.exception === stop;
    }, { expectReports: true });
    expect(value).toBe(true);
  });

  it('returns from kill({ block: false }) at once, in a greenlet, with the members still dying', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const log: string[] = [];
      group.spawn(function* () {
        try {
          yield* new Event().wait();
        } finally {
          log.push('member finally');
        }
      });
      yield* sleep(0);
      yield* group.kill(undefined, { block: false });
      log.push(`kill returned, ${group.length} left`);
      yield* group.join();
      return log;
    });
    expect(value).toEqual(['kill returned, 1 left', 'member finally']);
  });

  it('kills each member once: a member still in its finally block when another goes is not interrupted again', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const log: string[] = [];
      group.spawn(function* () {
        try {
          yield* new Event().wait();
        } finally {
          yield* sleep(0);
          yield* sleep(0);
          log.push('slow finally done');
        }
      });
      group.spawn(function* () {
        yield* new Event().wait();
      });
      yield* sleep(0);
      yield* group.kill();
      log.push(`killed, ${group.length} left`);
      return log;
    });
    expect(value).toEqual(['slow finally done', 'killed, 0 left']);
  });

  it('gives up waiting in kill() after its timeout, leaving a member that outlives the kill', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const release = new Event();
      const member = group.spawn(function* () {
        try {
          yield* new Event().wait();
        } catch {
          yield* release.wait(); // catches the kill and keeps going
        }
      });
      yield* sleep(0);
      yield* group.kill(undefined, { timeout: 1 });
      const after = [group.length, member.ready];
      release.set();
      yield* group.join();
      return after;
    });
    expect(value).toEqual([1, false]);
  });
});

describeHub('Group kill interrupted', (t) => {
  it('lets an exception raised in the greenlet waiting in kill() leave kill()', async () => {
    const { value } = await t.run(function* () {
      const group = new Group();
      const release = new Event();
      group.spawn(function* () {
        try {
          yield* new Event().wait();
        } catch {
          yield* release.wait(); // outlives the kill
        }
      });
      yield* sleep(0);
      const killer = spawn(function* () {
        yield* group.kill();
        return 'kill returned';
      });
      yield* sleep(0); // the killer waits in kill()
      const stop = new Error('stop');
      yield* killer.kill(stop);
      const result = [killer.exception === stop, killer.value];
      release.set();
      yield* group.join();
      return result;
    }, { expectReports: true });
    expect(value).toEqual([true, undefined]);
  });
});

describeHub('Group kill and imap', (t) => {
  it('stops the imap feeder of a pool it kills: no item is spawned after the kill', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(1);
      const hold = new Event();
      const started = new Event();
      const log: string[] = [];
      const results = pool.imap(function* (item: number) {
        log.push(`start ${item}`);
        started.set();
        yield* hold.wait();
        return item;
      }, [1, 2, 3]);
      yield* started.wait(); // item 1 runs; the feeder waits for room
      yield* pool.kill();
      hold.set(); // a member spawned after the kill would finish now
      yield* sleep(0);
      const out: unknown[] = [];
      for (;;) {
        const next = yield* results.next();
        if (next.done === true) break;
        out.push((next.value as unknown) instanceof GreenletExit ? 'killed' : next.value);
      }
      return [log, out];
    });
    expect(value).toEqual([['start 1'], ['killed']]);
  });
});

describeHub('imap close', (t) => {
  it('closes an imap from main code, where nothing may block, and spawns none of its items', async () => {
    const context = t.open();
    const log: unknown[] = [];
    const results = new Group(context.hub).imap((item: number) => log.push(item), [1, 2, 3]);
    results.close(); // throws ERR_BLOCKING_IN_CALLBACK if it tried to wait for the feeder
    await context.loop.run();
    expect(log).toEqual([]);
    context.finish();
  });
});

describeHub('Pool on a destroyed hub', (t) => {
  it('refuses trySpawn() with ERR_HUB_DESTROYED and keeps the place free', () => {
    const context = t.open();
    const pool = new Pool(1, context.hub);
    context.hub.destroy();
    const error = thrownBy(() => pool.trySpawn(() => 1)) as HubError;
    expect([error.code, pool.freeCount()]).toEqual(['ERR_HUB_DESTROYED', 1]);
    context.finish();
  });

  it('refuses spawn() in a greenlet whose hub was destroyed with ERR_HUB_DESTROYED, keeping the place free', async () => {
    const context = t.open();
    const seen: unknown[] = [];
    context.hub.spawn(function* () {
      const pool = new Pool(1);
      context.hub.destroy();
      try {
        yield* pool.spawn(() => 1);
      } catch (error) {
        seen.push((error as HubError).code);
      }
      seen.push(pool.freeCount());
    });
    await context.loop.run();
    expect(seen).toEqual(['ERR_HUB_DESTROYED', 1]);
    context.finish();
  });
});

describeHub('Pool', (t) => {
  it('runs at most size members at once; spawn waits for room in arrival order', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(2);
      const log: string[] = [];
      let running = 0;
      let most = 0;
      const job = function* (name: string) {
        running++;
        most = Math.max(most, running);
        log.push(`${name} start`);
        yield* sleep(2);
        running--;
      };
      for (const name of ['a', 'b', 'c', 'd']) yield* pool.spawn(job, name);
      const freeAfterSpawns = pool.freeCount();
      yield* pool.join();
      log.push(`free ${freeAfterSpawns}`);
      return [log, most, pool.freeCount()];
    });
    expect(value).toEqual([['a start', 'b start', 'c start', 'd start', 'free 0'], 2, 2]);
  });

  it('waits for a free place with waitAvailable, and trySpawn never waits', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(1);
      const first = pool.trySpawn(function* () {
        yield* sleep(2);
      });
      const second = pool.trySpawn(function* () {});
      const full = pool.full();
      const free = yield* pool.waitAvailable();
      return [first !== undefined, second, full, free];
    });
    expect(value).toEqual([true, undefined, true, 1]);
  });

  it('takes no place for a spawn killed while it waited for one', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(1);
      yield* pool.spawn(function* () {
        yield* sleep(2);
      });
      const blocked = spawn(function* () {
        yield* pool.spawn(function* () {});
      });
      yield* sleep(0);
      yield* blocked.kill();
      yield* pool.join();
      return [pool.freeCount(), pool.length];
    });
    expect(value).toEqual([1, 0]);
  });

  it('maps with at most size members at once', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(2);
      let running = 0;
      let most = 0;
      const results = yield* pool.map(
        function* (n: number) {
          running++;
          most = Math.max(most, running);
          yield* sleep(1);
          running--;
          return n * n;
        },
        [1, 2, 3, 4, 5],
      );
      return [results, most];
    });
    expect(value).toEqual([[1, 4, 9, 16, 25], 2]);
  });

  it('kills the members and the imap feeder with kill()', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(1);
      const results = pool.imap(function* (n: number) {
        yield* sleep(60_000);
        return n;
      }, [1, 2, 3]);
      yield* sleep(0);
      yield* pool.kill();
      const first = yield* results.next(); // the member was killed: its GreenletExit is its value
      return [(first.value as unknown) instanceof GreenletExit, pool.length];
    });
    expect(value).toEqual([true, 0]);
  });
});

describeHub('joinall and killall', (t) => {
  it('returns from joinall({ count }) at once when that many are already finished', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const finished = spawn(() => 'early');
      yield* finished.join();
      const running = spawn(function* () {
        yield* sleep(0);
        log.push('running ended');
      });
      const done = yield* joinall([finished, running], { count: 1 });
      log.push(`joinall returned ${done.length}`);
      yield* running.join();
      return log;
    });
    expect(value).toEqual(['joinall returned 1', 'running ended']);
  });

  it('ends greenlets killall() kills before they start successfully, each with a GreenletExit', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const gs = [spawn(() => log.push('ran')), spawn(() => log.push('ran'))];
      yield* killall(gs);
      return [log, gs.map((g) => g.successful && g.value instanceof GreenletExit)];
    });
    expect(value).toEqual([[], [true, true]]);
  });

  it('kills with the exception given to killall() and returns without raising it', async () => {
    const { value } = await t.run(function* () {
      const stop = new Error('stop');
      const g = spawn(function* () {
        yield* new Event().wait();
      });
      yield* sleep(0);
      yield* killall([g], stop);
      return [g.ready, g.exception === stop];
    }, { expectReports: true });
    expect(value).toEqual([true, true]);
  });

  it('returns from killall({ block: false }) at once, in a greenlet, with the greenlets still dying', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const g = spawn(function* () {
        try {
          yield* new Event().wait();
        } finally {
          log.push('finally');
        }
      });
      yield* sleep(0);
      yield* killall([g], undefined, { block: false });
      log.push(`killall returned, ready ${String(g.ready)}`);
      yield* g.join();
      return log;
    });
    expect(value).toEqual(['killall returned, ready false', 'finally']);
  });

  it('joins all, or count of them, or those done by the timeout, in the order they finished', async () => {
    const { value } = await t.run(function* () {
      const go = { a: new Event(), b: new Event(), c: new Event() };
      const finisher = function* (name: 'a' | 'b' | 'c') {
        yield* go[name].wait();
        return name;
      };
      const greenlets = [spawn(finisher, 'a'), spawn(finisher, 'b'), spawn(finisher, 'c')];
      spawn(function* () {
        for (const name of ['b', 'c', 'a'] as const) {
          yield* sleep(0);
          go[name].set(); // one per drain: b, then c, then a
        }
      });
      const firstTwo = (yield* joinall(greenlets, { count: 2 })).map((g) => g.value);
      const all = (yield* joinall(greenlets)).map((g) => g.value);
      const never = spawn(function* () {
        yield* new Event().wait();
      });
      const timedOut = yield* joinall([never], { timeout: 1 });
      yield* never.kill();
      return [firstTwo, all, timedOut.length];
    });
    expect(value).toEqual([['b', 'c'], ['b', 'c', 'a'], 0]);
  });

  it('raises the first failure at once with raiseError', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const slow = spawn(function* () {
          yield* sleep(60_000);
        });
        const failing = spawn(function* () {
          yield* sleep(1);
          throw boom;
        });
        try {
          yield* joinall([slow, failing], { raiseError: true });
        } catch (error) {
          yield* slow.kill();
          return error === boom;
        }
        return false;
      },
      { expectReports: true },
    );
    expect(value).toBe(true);
  });

  it('kills them all and waits, raising a Timeout if some outlive the timeout', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const victims: Greenlet[] = [1, 2, 3].map((n) =>
        spawn(function* () {
          try {
            yield* sleep(60_000);
          } finally {
            log.push(`${n} finally`);
          }
        }),
      );
      yield* sleep(0);
      yield* killall(victims);
      log.push('killall returned');
      const release = new Event();
      const stubborn = spawn(function* () {
        try {
          yield* sleep(60_000);
        } catch {
          log.push('refuses to die');
        }
        yield* release.wait(); // alive well past killall's timeout
      });
      yield* sleep(0);
      try {
        yield* killall([stubborn], undefined, { timeout: 1 });
      } catch (error) {
        log.push(error instanceof Timeout ? 'timeout' : 'other');
      }
      release.set();
      yield* stubborn.join();
      return log;
    });
    expect(value).toEqual(['1 finally', '2 finally', '3 finally', 'killall returned', 'refuses to die', 'timeout']);
  });
});
