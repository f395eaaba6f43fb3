import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostPoller } from './host-poller.js';
import type { LoopBase } from './loop-base.js';

/** The one thing a HostPoller calls on its loop, recorded with the time of each call. */
function recordingLoop(): { loop: LoopBase; ticks: number[] } {
  const ticks: number[] = [];
  const loop = { pollTick: () => ticks.push(performance.now()) } as unknown as LoopBase;
  return { loop, ticks };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('HostPoller', () => {
  it('never ticks inside poll() or wake(): a timeout of 0 and a wake-up each tick once, later', async () => {
    const { loop, ticks } = recordingLoop();
    const poller = new HostPoller(loop);
    poller.poll(0);
    poller.wake();
    poller.wake();
    expect(ticks).toHaveLength(0);
    await sleep(20);
    expect(ticks).toHaveLength(1);
    poller.wake();
    await sleep(20);
    expect(ticks).toHaveLength(2);
    poller.release();
  });

  it('ticks once a timeout has passed, never before it', async () => {
    const { loop, ticks } = recordingLoop();
    const poller = new HostPoller(loop);
    const start = performance.now();
    poller.poll(30);
    await sleep(10);
    expect(ticks).toHaveLength(0);
    await vi.waitFor(() => expect(ticks).toHaveLength(1), { timeout: 5_000, interval: 5 });
    expect((ticks[0] as number) - start).toBeGreaterThanOrEqual(30);
    poller.release();
  });

  it('waits out the rest when the host timer fires before the deadline, so the tick is never early', async () => {
    const { loop, ticks } = recordingLoop();
    const poller = new HostPoller(loop);
    // A host whose timers fire at a quarter of the delay asked for (Node's can fire a little early:
    // it counts from the loop time cached when its iteration began).
    const realSetTimeout = globalThis.setTimeout;
    const delays: number[] = [];
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, delay: number) => {
      delays.push(delay);
      return realSetTimeout(callback, Math.floor(delay / 4));
    }) as typeof setTimeout);
    const start = performance.now();
    poller.poll(60);
    await vi.waitFor(() => expect(ticks).toHaveLength(1), { timeout: 5_000, interval: 5 });
    expect((ticks[0] as number) - start).toBeGreaterThanOrEqual(60);
    expect(delays.length).toBeGreaterThan(1);
    expect(delays[0]).toBe(60);
    expect(delays.slice(1).every((delay) => delay > 0 && delay <= 60)).toBe(true);
    poller.release();
  });

  it('cuts a wait past 2^31-1 ms into host timers Node can honour, instead of firing at once', async () => {
    const { loop, ticks } = recordingLoop();
    const poller = new HostPoller(loop);
    const delays: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, delay: number) => {
      delays.push(delay);
      return realSetTimeout(callback, delay);
    }) as typeof setTimeout);
    poller.poll(2 ** 31 + 1000);
    await sleep(30);
    expect(ticks).toHaveLength(0);
    expect(delays).toEqual([2 ** 31 - 1]);
    poller.release();
  });

  it('rounds a fractional timeout up, so the host timer does not fire before it', () => {
    const { loop } = recordingLoop();
    const poller = new HostPoller(loop);
    const delays: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, delay: number) => {
      delays.push(delay);
      return realSetTimeout(callback, delay);
    }) as typeof setTimeout);
    poller.poll(2.2);
    expect(delays).toEqual([3]);
    poller.release();
  });

  it('replaces the timeout when poll() is called again during the same phase: one tick, at the new deadline', async () => {
    const { loop, ticks } = recordingLoop();
    const poller = new HostPoller(loop);
    poller.poll(60_000);
    poller.poll(10);
    await vi.waitFor(() => expect(ticks).toHaveLength(1), { timeout: 5_000, interval: 5 });
    poller.poll(0); // a timeout of 0 after a long one: the long one is dropped too
    await sleep(20);
    expect(ticks).toHaveLength(2);
    poller.poll(60_000);
    poller.poll(0);
    await sleep(20);
    expect(ticks).toHaveLength(3);
    poller.release();
  });

  it('drops the earlier host timer when poll() is called again: a shorter first wait neither ticks twice nor early', async () => {
    const { loop, ticks } = recordingLoop();
    const poller = new HostPoller(loop);
    const start = performance.now();
    poller.poll(10);
    poller.poll(40);
    await sleep(120);
    expect(ticks).toHaveLength(1);
    expect((ticks[0] as number) - start).toBeGreaterThanOrEqual(40);
    // A timeout of 0 after a short wait: one tick now, none when the short wait would have ended.
    poller.poll(10);
    poller.poll(0);
    await sleep(60);
    expect(ticks).toHaveLength(2);
    poller.release();
  });

  it('drops its host timer and its immediate on release(), so nothing ticks and the process may exit', async () => {
    const { loop, ticks } = recordingLoop();
    const poller = new HostPoller(loop);
    poller.poll(5);
    poller.wake();
    poller.release();
    await sleep(30);
    expect(ticks).toHaveLength(0);
    // Usable again after a release: a wake-up ticks.
    poller.wake();
    await sleep(20);
    expect(ticks).toHaveLength(1);
    poller.release();
  });
});
