import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { TcpStream, Timer } from '@loop/core';
import { createLoop } from './index.js';

/** Wait `ms` of real time in Node (not on the loop). */
function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('virtual time', () => {
  it('jumps to each due timer: now() in each callback is exactly its due time', async () => {
    const loop = createLoop();
    const seen: [string, number][] = [];
    loop.timer(() => seen.push(['hour', loop.now()])).start(3_600_000);
    loop.timer(() => seen.push(['second', loop.now()])).start(1_000);
    loop
      .timer((timer) => {
        seen.push(['tick', loop.now()]);
        if (loop.now() >= 3 * 60_000) timer.close();
      })
      .start(60_000, 60_000);
    await loop.run();
    expect(seen).toEqual([
      ['second', 1_000],
      ['tick', 60_000],
      ['tick', 120_000],
      ['tick', 180_000],
      ['hour', 3_600_000],
    ]);
    expect(loop.now()).toBe(3_600_000);
    loop.close();
  });

  it('reaches a due time that now + (due - now) rounds short of, and fires the timer exactly there', async () => {
    const loop = createLoop();
    const due = 2.6516791782295273;
    const now = 0.2956991302594425;
    expect(now + (due - now)).toBeLessThan(due); // the poll's deadline would fall one step short
    let firedAt = -1;
    loop.timer(() => (firedAt = loop.now())).start(due);
    loop.advance(now);
    await loop.run();
    expect(firedAt).toBe(due);
    loop.close();
  });

  it('starts now() at the epoch and counts due times from it', async () => {
    const loop = createLoop({ epoch: 1_700_000_000_000 });
    expect(loop.now()).toBe(1_700_000_000_000);
    let firedAt = 0;
    loop.timer(() => (firedAt = loop.now())).start(250);
    await loop.run();
    expect(firedAt).toBe(1_700_000_000_250);
    loop.close();
  });

  it('moves time only while the loop waits: a callSoon chain sees one instant', async () => {
    const loop = createLoop();
    const times = new Set<number>();
    let left = 1_000;
    const spin = (): void => {
      times.add(loop.now());
      if (--left > 0) loop.callSoon(spin);
    };
    loop.callSoon(spin);
    loop.timer(() => times.add(loop.now())).start(5);
    await loop.run();
    expect([...times]).toEqual([0, 5]);
    loop.close();
  });

  it('advance() outside run(): the timers due by then run in the next run, together, each once', async () => {
    const loop = createLoop();
    const seen: [string, number][] = [];
    const ticker = loop.timer(() => seen.push(['ticker', loop.now()])).start(10, 10);
    loop.timer(() => seen.push(['once', loop.now()])).start(25);
    loop.timer(() => seen.push(['later', loop.now()])).start(100);
    loop.advance(30);
    expect(loop.now()).toBe(0); // the cached time follows at the loop's next clock read
    expect(seen).toEqual([]);
    expect(await loop.run('nowait')).toBe(true);
    expect(seen).toEqual([
      ['ticker', 30],
      ['once', 30],
    ]);
    expect(ticker.dueIn()).toBe(10);
    ticker.close();
    await loop.run();
    expect(seen.at(-1)).toEqual(['later', 100]);
    loop.close();
  });

  it('advance() inside a callback moves the clock but not the cached now() until updateTime()', async () => {
    const loop = createLoop();
    const seen: number[] = [];
    loop.callSoon(() => {
      seen.push(loop.now());
      loop.advance(40);
      seen.push(loop.now());
      loop.updateTime();
      seen.push(loop.now());
    });
    await loop.run();
    expect(seen).toEqual([0, 0, 40]);
    loop.close();
  });

  it('advance() from outside ends a wait and fires what came due', async () => {
    // Time almost frozen: the 1 s timer would take 10^6 s of real time without the advance.
    const loop = createLoop({ timeScale: 1e-6 });
    let firedAt = -1;
    loop.timer(() => (firedAt = loop.now())).start(1_000);
    const running = loop.run();
    setTimeout(() => loop.advance(1_000), 5);
    await running;
    expect(firedAt).toBeGreaterThanOrEqual(1_000);
    expect(firedAt).toBeLessThan(1_001);
    loop.close();
  });

  it('runs time at a multiple of real time with timeScale', async () => {
    const loop = createLoop({ timeScale: 10 });
    const started = performance.now();
    let firedAt = -1;
    loop.timer(() => (firedAt = loop.now())).start(300);
    await loop.run();
    // 300 virtual ms at 10x take at least 30 real ms (a lower bound only: a busy machine is slower).
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(firedAt).toBeGreaterThanOrEqual(300);
    loop.close();
  });

  it('lets promises and Node callbacks run between jumps: an async sleep loop sees exact times', async () => {
    const loop = createLoop();
    // A check hook keeps the loop waiting between one timer and the next, which a microtask starts.
    const hold = loop.check(() => undefined).start();
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) =>
        loop
          .timer((timer: Timer) => {
            timer.close();
            resolve();
          })
          .start(ms),
      );
    const times: number[] = [];
    const worker = (async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(60_000);
        times.push(loop.now());
      }
      hold.close();
    })();
    await loop.run();
    await worker;
    expect(times).toEqual([60_000, 120_000, 180_000, 240_000, 300_000]);
    loop.close();
  });

  it('does not jump to a timer stopped from outside the loop while it waited', async () => {
    const loop = createLoop();
    const checks: number[] = [];
    const hold = loop.check(() => checks.push(loop.now())).start();
    const stopped = loop.timer(() => undefined).start(5_000);
    loop.callSoon(() => {
      // This microtask runs once the loop is back in its poll, about to jump to the 5 s timer.
      void Promise.resolve().then(() => {
        stopped.stop();
        setTimeout(() => loop.callSoon(() => hold.close()), 5);
      });
    });
    await loop.run();
    expect(loop.now()).toBe(0);
    expect(new Set(checks)).toEqual(new Set([0]));
    loop.close();
  });

  it('does not jump to the old due time of a timer pushed back from outside the loop', async () => {
    const loop = createLoop();
    const checks: number[] = [];
    const hold = loop.check(() => checks.push(loop.now())).start();
    const pushed = loop.timer(() => undefined).start(5_000);
    let firedAt = -1;
    loop
      .timer(() => {
        firedAt = loop.now();
        pushed.close();
        hold.close();
      })
      .start(7_000);
    loop.callSoon(() => void Promise.resolve().then(() => pushed.start(60_000)));
    await loop.run();
    expect(firedAt).toBe(7_000);
    expect(checks).toEqual([0, 7_000]);
    loop.close();
  });

  it('waits without spinning when nothing is due, and callSoon from outside wakes it', async () => {
    const loop = createLoop();
    let iterations = 0;
    const prepare = loop.prepare(() => iterations++).start();
    const hold = loop.check(() => undefined).start();
    const running = loop.run();
    await realDelay(20);
    const afterWait = iterations;
    await realDelay(20);
    // One iteration entered the poll, and no other ran during 40 ms of idle wait: no spin.
    expect(afterWait).toBe(1);
    expect(iterations).toBe(1);
    expect(loop.now()).toBe(0);
    let woken = false;
    loop.callSoon(() => {
      woken = true;
      prepare.close();
      hold.close();
    });
    await running;
    expect(woken).toBe(true);
    loop.close();
  });

  it('rejects bad options with ERR_INVALID_ARG', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARG' });
    for (const options of [{ seed: -1 }, { seed: 1.5 }, { epoch: Number.NaN }, { epoch: -1 }, { timeScale: -1 }, { link: { latency: -5 } }, { link: { bandwidth: 0 } }]) {
      expect(() => createLoop(options)).toThrow(invalid);
    }
    const loop = createLoop();
    expect(() => loop.advance(-1)).toThrow(invalid);
    expect(() => loop.advance(Infinity)).toThrow(invalid);
    expect(() => loop.setLink({ port: 0 }, {})).toThrow(invalid);
    expect(() => loop.setLink({ host: '' }, {})).toThrow(invalid);
    expect(() => loop.setLink({}, { bandwidth: -1 })).toThrow(invalid);
    expect(loop.now()).toBe(0);
    loop.close();
    expect(() => loop.advance(1)).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED' }));
  });

  it('names the bad option, its range and what it got in the error', () => {
    const invalid = (message: string): unknown => expect.objectContaining({ code: 'ERR_INVALID_ARG', message });
    const max = Number.MAX_SAFE_INTEGER;
    expect(() => createLoop({ seed: 1.5 })).toThrow(invalid('seed must be an integer, got 1.5'));
    expect(() => createLoop({ seed: 2 ** 53 })).toThrow(invalid(`seed must be a finite number in [0, ${max}], got ${2 ** 53}`));
    expect(() => createLoop({ epoch: -1 })).toThrow(invalid(`epoch must be a finite number in [0, ${max}], got -1`));
    expect(() => createLoop({ timeScale: 2e9 })).toThrow(invalid('timeScale must be a finite number in [0, 1000000000], got 2000000000'));
    const loop = createLoop();
    expect(() => loop.advance(Number.NaN)).toThrow(invalid(`ms must be a finite number in [0, ${max}], got NaN`));
    loop.close();
  });

  it('accepts the largest seed, epoch and time scale', () => {
    const loop = createLoop({ seed: Number.MAX_SAFE_INTEGER, epoch: Number.MAX_SAFE_INTEGER, timeScale: 1e9 });
    expect(loop.seed).toBe(Number.MAX_SAFE_INTEGER);
    expect(loop.now()).toBeGreaterThanOrEqual(Number.MAX_SAFE_INTEGER);
    loop.close();
  });

  it('starts a scaled clock at the epoch too', () => {
    const loop = createLoop({ timeScale: 100, epoch: 5_000 });
    // now() is read at creation: microseconds of real time after the clock's start (50 ms allowed).
    expect(loop.now()).toBeGreaterThanOrEqual(5_000);
    expect(loop.now()).toBeLessThan(10_000);
    loop.close();
  });

  it('never moves the clock back: a poll that was due before an advance() from a prepare hook does not undo it', async () => {
    const loop = createLoop();
    const seen: number[] = [];
    let advanced = false;
    const prepare = loop
      .prepare(() => {
        if (advanced) return;
        advanced = true;
        loop.advance(10_000); // the poll's deadline (the 1 s timer) was computed from the cached now(), 0
      })
      .start();
    loop
      .timer((timer) => {
        seen.push(loop.now());
        timer.close();
        prepare.close();
      })
      .start(1_000);
    await loop.run();
    expect(seen).toEqual([10_000]);
    expect(loop.now()).toBe(10_000);
    loop.close();
  });

  it('advance() outside run() delivers the packets due by then, so a connect over a slow link settles without run()', async () => {
    const loop = createLoop({ link: { latency: 10 } });
    const server = await loop.listen({ port: 7000 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
    let outcome = 'pending';
    let client: TcpStream | undefined;
    const settled = loop.connect({ port: 7000 }).then(
      (stream) => ((client = stream), (outcome = 'connected')),
      (error: unknown) => (outcome = (error as Error).message),
    );
    await realDelay(5);
    expect(outcome).toBe('pending'); // the SYN is due at 10: nothing moves the clock
    loop.advance(10); // the SYN arrives, the answer is due at 20
    await realDelay(5);
    loop.advance(10);
    await Promise.race([settled, realDelay(1_000)]);
    expect(outcome).toBe('connected');
    client?.on({ data: () => undefined, close: () => server.close() });
    client?.end();
    await loop.run();
    loop.close();
  });

  it('declares io missing: loop.io() throws UnsupportedError', () => {
    const loop = createLoop();
    expect(loop.capabilities.io).toBe(false);
    expect(() => loop.io(0, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED', capability: 'io' }));
    loop.close();
  });
});
