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

/** The Node timers and immediates that keep the process alive (referenced ones). */
function hostResources(): string {
  const counts = { Timeout: 0, Immediate: 0 };
  for (const kind of process.getActiveResourcesInfo()) if (kind === 'Timeout' || kind === 'Immediate') counts[kind]++;
  return `${counts.Timeout} timeouts, ${counts.Immediate} immediates`;
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
  it('leaves no Node timer or immediate behind once run() returns, before close(): idle wait, scaled waits, stop() from outside, network traffic', async () => {
    const before = hostResources();
    /** Each scenario resolves with what is left once its last run() returned (the loop still open). */
    const scenarios: Record<string, () => Promise<string>> = {
      'idle wait woken from outside': async () => {
        const loop = createLoop();
        const hold = loop.check(() => undefined).start();
        const running = loop.run();
        await realDelay(5);
        loop.callSoon(() => hold.close());
        await running;
        const left = hostResources();
        loop.close();
        return left;
      },
      'scaled timer': async () => {
        const loop = createLoop({ timeScale: 100 });
        loop.timer(() => undefined).start(300);
        await loop.run();
        const left = hostResources();
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
        const left = hostResources();
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
        const left = hostResources();
        timer.close();
        await loop.run();
        loop.close();
        return left;
      },
      'network traffic with latency': async () => {
        const loop = createLoop({ link: { latency: 3 } });
        await pingPong(loop, 3, 10);
        await loop.run();
        const left = hostResources();
        loop.close();
        return left;
      },
    };
    const left: string[] = [];
    for (const [name, scenario] of Object.entries(scenarios)) left.push(`${name}: ${await scenario()}`); // (no guard timer here: it would be counted)
    expect(left).toEqual(Object.keys(scenarios).map((name) => `${name}: ${before}`));
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

  it('jumps without waiting on Node timers: 400 timers a millisecond apart all fire before a 300 ms Node timer', async () => {
    // One host turn per jump (about a microsecond each); a Node timer per jump would take 400 ms at least.
    const loop = createLoop();
    const order: string[] = [];
    const node = setTimeout(() => order.push('node timer'), 300);
    for (let i = 1; i <= 400; i++) loop.timer((timer) => (timer.close(), i === 400 && order.push(`400 virtual timers by ${loop.now()}`))).start(i);
    await loop.run();
    order.push('run returned');
    clearTimeout(node);
    expect(order).toEqual(['400 virtual timers by 400', 'run returned']);
    loop.close();
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

  it('does not spin while it waits out a scaled timer: CPU time stays well under the wall time', async () => {
    const loop = createLoop({ timeScale: 1 });
    loop.timer(() => undefined).start(300);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await loop.run();
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    expect(wall).toBeGreaterThanOrEqual(299);
    expect((used.user + used.system) / 1000).toBeLessThan(wall / 2);
    loop.close();
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
