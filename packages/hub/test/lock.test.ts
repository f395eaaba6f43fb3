// Semaphore, BoundedSemaphore, Lock, RLock and withLock.
import { expect, it } from 'vitest';
import { BoundedSemaphore, Event, HubError, InvalidArgumentError, Lock, RLock, Semaphore, joinall, sleep, spawn, withLock } from '../src/index.js';
import { describeHub, thrownBy } from './helpers.js';

describeHub('locks', (t) => {
  it('evaluates an RLock acquire() that had to wait to true once it gets the lock', async () => {
    const { value } = await t.run(function* () {
      const lock = new RLock();
      yield* lock.acquire();
      const waiter = spawn(function* () {
        const got = yield* lock.acquire();
        lock.release();
        return got;
      });
      yield* sleep(0); // the waiter waits for the lock
      lock.release();
      return yield* waiter.get();
    });
    expect(value).toBe(true);
  });

  it('grants a semaphore\'s permits in the order greenlets asked, and lets no newcomer overtake', async () => {
    const { value } = await t.run(function* () {
      const semaphore = new Semaphore(1);
      const log: string[] = [];
      const user = function* (name: string) {
        yield* semaphore.acquire();
        log.push(`${name} in`);
        yield* sleep(1);
        log.push(`${name} out`);
        semaphore.release();
      };
      const first = [spawn(user, 'a'), spawn(user, 'b'), spawn(user, 'c')];
      yield* sleep(2); // a holds it, b and c wait
      yield* joinall([...first, spawn(user, 'late')]);
      return log;
    });
    expect(value).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out', 'late in', 'late out']);
  });

  it('evaluates acquire() to false on timeout or without block, and tryAcquire() works from main code', async () => {
    const context = t.open();
    const semaphore = new Semaphore(1);
    expect(semaphore.tryAcquire()).toBe(true);
    expect(semaphore.tryAcquire()).toBe(false);
    const value = await context.hub.run(function* () {
      const timed = yield* semaphore.acquire({ timeout: 1 });
      const nowait = yield* semaphore.acquire({ block: false });
      semaphore.release();
      const free = yield* semaphore.acquire({ block: false });
      return [timed, nowait, free, semaphore.locked()];
    });
    expect(value).toEqual([false, false, true, true]);
    context.finish();
  });

  it('loses no permit to a waiter killed before its turn: the next waiter gets it', async () => {
    const { value } = await t.run(function* () {
      const lock = new Lock();
      const log: string[] = [];
      yield* lock.acquire();
      const victim = spawn(function* () {
        yield* lock.acquire();
        log.push('victim got it');
      });
      const next = spawn(function* () {
        yield* lock.acquire();
        log.push('next got it');
        lock.release();
      });
      yield* sleep(0);
      victim.kill(undefined, { block: false }); // queued before the release's notification
      lock.release();
      yield* joinall([victim, next]);
      return [log, lock.locked()];
    });
    expect(value).toEqual([['next got it'], false]);
  });

  it('does not wake a waiter that timed out and now waits for something else', async () => {
    const { value } = await t.run(function* () {
      const lock = new Lock();
      const log: string[] = [];
      const gaveUp = new Event();
      const release = new Event();
      yield* lock.acquire();
      const impatient = spawn(function* () {
        log.push(`acquired ${String(yield* lock.acquire({ timeout: 1 }))}`);
        gaveUp.set();
        yield* release.wait(); // the lock's release below must not end this wait
        log.push('released');
      });
      yield* gaveUp.wait();
      lock.release();
      yield* sleep(0);
      yield* sleep(0);
      log.push(`locked ${String(lock.locked())}`);
      release.set();
      yield* impatient.join();
      return log;
    });
    expect(value).toEqual(['acquired false', 'locked false', 'released']);
  });

  it('lets a waiter wait() for a free permit without taking it', async () => {
    const { value } = await t.run(function* () {
      const semaphore = new Semaphore(0);
      const watcher = spawn(function* () {
        return yield* semaphore.wait();
      });
      yield* sleep(0);
      semaphore.release();
      const free = yield* watcher.get();
      return [free, semaphore.counter, yield* semaphore.wait(1)];
    });
    expect(value).toEqual([1, 1, 1]);
  });

  it('refuses to release an unheld Lock or an over-released BoundedSemaphore', () => {
    expect((thrownBy(() => new Lock().release()) as HubError).code).toBe('ERR_HUB_NOT_LOCKED');
    const bounded = new BoundedSemaphore(2);
    expect((thrownBy(() => bounded.release()) as HubError).code).toBe('ERR_HUB_SEMAPHORE_OVER_RELEASED');
    const plain = new Semaphore(2);
    plain.release();
    expect(plain.counter).toBe(3);
    expect(thrownBy(() => new Semaphore(-1))).toBeInstanceOf(InvalidArgumentError);
  });

  it('lets an RLock\'s owner acquire it again, frees it after as many releases, and refuses a stranger\'s release', async () => {
    const { value } = await t.run(function* () {
      const lock = new RLock();
      const log: string[] = [];
      yield* lock.acquire();
      yield* lock.acquire();
      const stranger = spawn(function* () {
        try {
          lock.release();
        } catch (error) {
          log.push((error as HubError).code);
        }
        yield* lock.acquire();
        log.push('stranger got it');
        lock.release();
      });
      yield* sleep(0);
      lock.release();
      log.push(`still held ${String(lock.locked())}`);
      lock.release();
      yield* stranger.join();
      return log;
    });
    expect(value).toEqual(['ERR_HUB_NOT_LOCKED', 'still held true', 'stranger got it']);
  });

  it('releases the lock of withLock on every way out, a kill included', async () => {
    const { value } = await t.run(function* () {
      const lock = new Lock();
      const holder = spawn(function* () {
        yield* withLock(lock, function* () {
          yield* sleep(60_000);
        });
      });
      yield* sleep(0);
      const heldBefore = lock.locked();
      yield* holder.kill();
      const result = yield* withLock(lock, function* () {
        return 'got it after the kill';
      });
      return [heldBefore, result, lock.locked()];
    });
    expect(value).toEqual([true, 'got it after the kill', false]);
  });
});
