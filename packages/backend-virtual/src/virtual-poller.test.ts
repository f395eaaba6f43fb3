import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { createLoop, type VirtualLoop } from './index.js';

/** Wait `ms` of real time in Node (not on the loop). */
function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reject if `promise` has not settled within `ms` of real time: a guard against a hang, not a measure. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let guard: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<T>((_, reject) => (guard = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(guard),
  );
}

/** A frame of this package's source (not of a test file): the loop's own host callbacks. */
const LOOP_FRAME = /backend-virtual[\\/]src[\\/][\w-]+\.ts/;

/**
 * Track the Node timers and immediates the loop's code sets (other code in the process, the test
 * runner's included, is not counted): `pending()` lists those neither fired nor cleared that
 * keep the process alive, `created()` counts them all.
 */
function trackHostCallbacks(): { pending: () => string[]; created: () => number; restore: () => void } {
  const live = new Map<NodeJS.Timeout | NodeJS.Immediate, string>();
  let created = 0;
  const real = { setTimeout, clearTimeout, setImmediate, clearImmediate };
  const fromLoop = (): boolean => LOOP_FRAME.test(new Error().stack ?? '') && ++created > 0;
  globalThis.setTimeout = ((callback: () => void, ms?: number) => {
    const handle = real.setTimeout(() => {
      live.delete(handle);
      callback();
    }, ms);
    if (fromLoop()) live.set(handle, `Node timer of ${ms} ms`);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle: NodeJS.Timeout | undefined) => {
    if (handle !== undefined) live.delete(handle);
    real.clearTimeout(handle);
  }) as typeof clearTimeout;
  globalThis.setImmediate = ((callback: () => void) => {
    const handle = real.setImmediate(() => {
      live.delete(handle);
      callback();
    });
    if (fromLoop()) live.set(handle, 'immediate');
    return handle;
  }) as typeof setImmediate;
  globalThis.clearImmediate = ((handle: NodeJS.Immediate | undefined) => {
    if (handle !== undefined) live.delete(handle);
    real.clearImmediate(handle);
  }) as typeof clearImmediate;
  return {
    pending: () => [...live].filter(([handle]) => handle.hasRef()).map(([, what]) => what),
    created: () => created,
    restore: () => Object.assign(globalThis, real),
  };
}

/** A server on 7000 that answers each chunk with 'pong'; and a client that pings every `ms` of virtual time once connected, `count` times. */
async function pingPong(loop: VirtualLoop, count: number, ms: number): Promise<string[]> {
  const log: string[] = [];
  const server = await loop.listen({ port: 7000 }, (stream) => stream.on({ data: () => stream.write('pong'), end: () => stream.end() }));
  loop.connect({ port: 7000 }, (error, client) => {
    if (error || !client) throw error ?? new Error('no stream');
    let sent = 0;
    const ping = loop.timer(() => {
      client.write('ping');
      if (++sent === count) {
        ping.close();
        client.end();
      }
    });
    ping.start(ms, ms);
    client.on({ data: () => log.push(`pong at ${loop.now()}`), close: () => server.close() });
  });
  return log;
}

describe('virtual poller', () => {
  it('leaves no Node timer or immediate of its own behind once run() returns, before close(): idle wait, scaled waits, stop() from outside, network traffic', async () => {
    const host = trackHostCallbacks();
    /** Each scenario resolves with what the loop left pending once its last run() returned (the loop still open). */
    const scenarios: Record<string, () => Promise<string[]>> = {
      'idle wait woken from outside': async () => {
        const loop = createLoop();
        const hold = loop.check(() => undefined).start();
        const running = loop.run();
        await realDelay(5);
        loop.callSoon(() => hold.close());
        await running;
        const left = host.pending();
        loop.close();
        return left;
      },
      'scaled timer': async () => {
        const loop = createLoop({ timeScale: 100 });
        loop.timer(() => undefined).start(300);
        await loop.run();
        const left = host.pending();
        loop.close();
        return left;
      },
      'scaled idle wait, then a connect from outside': async () => {
        const loop = createLoop({ timeScale: 100, link: { latency: 50 } });
        const server = await loop.listen({ port: 7000 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
        const running = loop.run(); // nothing due: waits for a wake with a long host timer
        await realDelay(5);
        loop.connect({ port: 7000 }, (_error, client) => {
          client?.on({ data: () => undefined, close: () => server.close() });
          client?.end();
        });
        await running;
        const left = host.pending();
        loop.close();
        return left;
      },
      'stop() during a long scaled wait': async () => {
        const loop = createLoop({ timeScale: 1e-6 });
        const timer = loop.timer(() => undefined).start(1_000);
        const running = loop.run();
        await realDelay(5);
        loop.stop();
        await running;
        const left = host.pending();
        timer.close();
        await loop.run();
        loop.close();
        return left;
      },
      'network traffic with latency': async () => {
        const loop = createLoop({ link: { latency: 3 } });
        await pingPong(loop, 3, 10);
        await loop.run();
        const left = host.pending();
        loop.close();
        return left;
      },
    };
    const left: string[] = [];
    try {
      for (const [name, scenario] of Object.entries(scenarios)) left.push(`${name}: ${(await scenario()).join(', ') || 'nothing'}`);
    } finally {
      host.restore();
    }
    expect(left).toEqual(Object.keys(scenarios).map((name) => `${name}: nothing`));
  });

  it('fires a timer at exactly its due time while packets arrive before it', async () => {
    const loop = createLoop({ link: { latency: 3 } });
    const fired: number[] = [];
    loop.timer((timer) => (fired.push(loop.now()), timer.close())).start(100);
    const pongs = await pingPong(loop, 3, 7);
    await loop.run();
    expect(pongs).toEqual(['pong at 19', 'pong at 26', 'pong at 33']); // connected at 6, pings every 7 ms, 3 ms each way
    expect(fired).toEqual([100]);
    loop.close();
  });

  it('jumps without Node timers: with them frozen, an hour of timers a second apart still runs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // frozen: they never fire; setImmediate stays real
    try {
      const loop = createLoop();
      let fired = 0;
      const timer = loop.timer(() => ++fired === 3_600 && timer.close()).start(1_000, 1_000);
      await loop.run();
      expect([fired, loop.now()]).toEqual([3_600, 3_600_000]);
      loop.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits out a scaled timer in real time divided by the scale, even far from time 0', async () => {
    const day = 86_400_000;
    const loop = createLoop({ timeScale: 1_000, epoch: day });
    let firedAt = -1;
    loop.timer(() => (firedAt = loop.now())).start(5_000); // 5 ms of real time
    await within(loop.run(), 5_000, 'a 5 s timer at 1000x');
    expect(firedAt).toBeGreaterThanOrEqual(day + 5_000);
    loop.close();
  });

  it('does not spin while it waits out a scaled timer: a few host callbacks for 300 ms, not one per turn', async () => {
    const host = trackHostCallbacks();
    try {
      const loop = createLoop({ timeScale: 1 });
      loop.timer(() => undefined).start(300);
      const started = performance.now();
      await loop.run();
      expect(performance.now() - started).toBeGreaterThanOrEqual(299);
      expect(host.created()).toBeLessThan(10);
      loop.close();
    } finally {
      host.restore();
    }
  });

  it('keeps a Node timer pending through an idle wait longer than the longest Node timer (2^31-1 ms), so the process stays alive', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // Node's timers only: setImmediate stays real
    try {
      const loop = createLoop();
      const hold = loop.check(() => undefined).start();
      const running = loop.run();
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(2 ** 31 - 1); // the host timer runs out: another takes its place
      expect(vi.getTimerCount()).toBe(1);
      loop.callSoon(() => hold.close());
      await running;
      expect(vi.getTimerCount()).toBe(0);
      loop.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits out a scaled wait longer than the longest Node timer in pieces, and still fires when time comes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const loop = createLoop({ timeScale: 1e-7 }); // 1 s of virtual time is 10^10 ms of real time
      let firedAt = -1;
      loop.timer(() => (firedAt = loop.now())).start(1_000);
      const running = loop.run();
      await new Promise<void>((resolve) => setImmediate(resolve));
      vi.advanceTimersByTime(2 ** 31 - 1); // one piece: the clock is still short of the timer
      expect(firedAt).toBe(-1);
      expect(vi.getTimerCount()).toBe(1);
      loop.advance(1_000);
      await running;
      expect(firedAt).toBeGreaterThanOrEqual(1_000);
      loop.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits with nothing due without a Node warning (no host timer past 2^31-1 ms)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const loop = createLoop();
      const hold = loop.check(() => undefined).start();
      const running = loop.run();
      await realDelay(20);
      loop.callSoon(() => hold.close());
      await running;
      loop.close();
      await realDelay(5);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
