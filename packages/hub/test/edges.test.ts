// Edges of the hub's API: calls that must not switch, options that must be honoured, failures
// that must be raised only when asked, and places a pool must not give back twice.
import { expect, it } from 'vitest';
import { Group, Hub, Lock, Pool, joinall, sleep, spawn, spawnLater, withLock, type InvalidArgumentError } from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

describeHub('API edges', (t) => {
  it('starts a greenlet from spawnLater(ms) only once ms have passed, not at the next drain', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const g = spawnLater(1_000_000, () => log.push('ran'));
      yield* sleep(0);
      yield* sleep(1);
      const before = [g.ready, [...log]];
      yield* g.kill();
      return before;
    });
    expect(value).toEqual([false, []]);
  });

  it('returns from join() of a finished greenlet at once, without letting other greenlets run', async () => {
    const { value } = await t.run(function* () {
      const log: string[] = [];
      const done = spawn(() => 'done');
      yield* done.join();
      spawn(() => log.push('other ran'));
      log.push(`joined ${String(yield* done.join())}`);
      yield* sleep(0);
      return log;
    });
    expect(value).toEqual(['joined true', 'other ran']);
  });

  it('returns at once from a yield*-ed kill without block: the victim dies in the next drain', async () => {
    const { value } = await t.run(function* () {
      const victim = spawn(() => sleep(1_000_000));
      yield* sleep(0);
      yield* victim.kill(undefined, { block: false });
      const atOnce = victim.ready;
      yield* victim.join();
      return [atOnce, victim.ready];
    });
    expect(value).toEqual([false, true]);
  });

  it('passes a link callback\'s exception to the loop\'s handler as it is, not as a GreenletFailure', async () => {
    const loopErrors: unknown[] = [];
    const loop = t.backend.createLoop({ onError: (error) => loopErrors.push(error) });
    const hub = new Hub(loop);
    const oops = new Error('oops');
    await hub.run(function* () {
      const g = spawn(() => 1);
      g.link(() => {
        throw oops;
      });
      yield* g.join();
      yield* sleep(0);
    });
    hub.destroy();
    loop.close();
    expect(loopErrors).toEqual([oops]);
  });

  it('raises nothing from joinall with raiseError when every greenlet succeeds, finished before or during the wait', async () => {
    const { value } = await t.run(function* () {
      const early = spawn(() => 'early');
      yield* early.join();
      const late = spawn(function* () {
        yield* sleep(1);
        return 'late';
      });
      const joined = yield* joinall([early, late], { raiseError: true });
      return joined.map((g) => g.value);
    });
    expect(value).toEqual(['early', 'late']);
  });

  it('raises no member\'s failure from Group.join() unless raiseError is given', async () => {
    const boom = new Error('boom');
    const { value } = await t.run(
      function* () {
        const group = new Group();
        group.spawn(() => {
          throw boom;
        });
        const joined = yield* group.join();
        yield* sleep(0);
        return joined;
      },
      { expectReports: true },
    );
    expect(value).toBe(true);
  });

  it('gives a pool\'s place back once per member: discarding it twice, or a stranger, frees nothing more', async () => {
    const { value } = await t.run(function* () {
      const pool = new Pool(2);
      const member = yield* pool.spawn(() => sleep(1_000_000));
      const stranger = spawn(() => sleep(1_000_000));
      const free = [pool.freeCount()];
      pool.discard(stranger);
      free.push(pool.freeCount());
      pool.discard(member);
      pool.discard(member);
      free.push(pool.freeCount());
      yield* member.kill();
      yield* stranger.kill();
      yield* sleep(0);
      free.push(pool.freeCount());
      return free;
    });
    expect(value).toEqual([1, 1, 2, 2]);
  });

  it('refuses withLock without a function, at the call, leaving the lock free', async () => {
    const { value } = await t.run(function* () {
      const lock = new Lock();
      const error = thrownBy(() => withLock(lock, 5 as never)) as InvalidArgumentError;
      return [error.code, error.message, lock.locked()];
    });
    expect(value).toEqual(['ERR_INVALID_ARG', 'fn must be a function, got 5', false]);
  });
});
