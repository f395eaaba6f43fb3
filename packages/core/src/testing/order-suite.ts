import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { passTime, within, withLoop, type LoopFactory } from './helpers.js';

/**
 * libuv ≥ 1.45's `uv_run` order, rule by rule: timers at the end of each iteration (and once
 * before the first in default mode), `can_sleep` decided before the idle phase, the clock read
 * when the poll returns, cancelled callbacks that cost nothing.
 */
export function defineOrderSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  describe('iteration order (libuv ≥ 1.45)', () => {
    it('runs due timers before the first iteration in default mode: a 0 ms timer precedes pending callbacks', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        loop.timer(() => order.push('timer')).start(0);
        loop.callSoon(() => order.push('pending'));
        await loop.run();
        expect(order).toEqual(['timer', 'pending']);
      }));

    it('enters the first iteration even when the timers run before it left nothing alive: an unreferenced hook runs once', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const check = loop.check(() => order.push('check'));
        check.start();
        check.unref();
        loop.timer(() => order.push('timer')).start(0);
        expect(await loop.run()).toBe(false);
        // libuv ≥ 1.45: uv_run tests the liveness it read before those timers, then each
        // iteration's end; the iteration's poll does not block (nothing referenced is active).
        expect(order).toEqual(['timer', 'check']);
        check.close();
        await loop.run();
      }));

    it('still runs the due timers of the iteration in which a check hook called stop()', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const check = loop.check((hook) => {
          order.push('check');
          hook.stop();
          loop.stop();
          loop.timer(() => order.push('timer')).start(0);
        });
        check.start();
        loop.callSoon(() => {
          order.push('pending');
          // A check hook alone lets the poll block indefinitely (as in libuv): this timer ends it.
          // Started here: one started before run() may be due by then on a busy machine, run
          // before the first iteration, and leave the poll waiting for ever.
          loop.timer(() => undefined).start(1);
        });
        expect(await loop.run()).toBe(false);
        // Before libuv 1.45 timers ran at the start of the next iteration, which stop() prevents.
        expect(order).toEqual(['pending', 'check', 'timer']);
        check.close();
        await loop.run();
      }));

    it('refreshes now() when a poll times out, so a timer started from the check hook counts from the end of the wait', () =>
      withLoop(createLoop, async (loop) => {
        let lag = -1;
        const check = loop.check((hook) => {
          hook.stop();
          // How far now() is behind the loop's own clock: re-read it (performance.now() is the
          // clock of Node-hosted backends only; a virtual clock, say, has nothing to do with it).
          const cached = loop.now();
          loop.updateTime();
          lag = loop.now() - cached;
        });
        loop.callSoon(() => check.start());
        loop.timer(() => undefined).start(120);
        await loop.run();
        check.close();
        await loop.run();
        // A stale now() (from before the 120 ms wait) would be about 120 ms behind.
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(60);
      }));

    it('does not keep the loop alive for a cancelled callSoon', () =>
      withLoop(createLoop, async (loop) => {
        let ran = false;
        const pending = loop.callSoon(() => (ran = true));
        expect(loop.alive()).toBe(true);
        pending.cancel();
        pending.cancel();
        expect(loop.alive()).toBe(false);
        expect(await loop.run()).toBe(false);
        expect(ran).toBe(false);
      }));
  });

  // Backends without run('once') have their UnsupportedError asserted by the loop suite.
  if (!capabilities.runOnce) return;
  describe('iteration order in run once (libuv ≥ 1.45)', () => {
    it('decides whether its poll may block before the idle phase: an idle hook that stops itself does not make it block', () =>
      withLoop(createLoop, async (loop) => {
        const idle = loop.idle((hook) => hook.stop());
        idle.start();
        const timer = loop.timer(() => undefined).start(60_000);
        expect(await within(loop.run('once'), 5_000, "run('once') with an idle hook that stopped itself")).toBe(true);
        timer.close();
        idle.close();
        await loop.run();
      }));

    it('runs an overdue repeating timer at most once per run', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer(() => fired++).start(1, 1);
        passTime(loop, 20); // overdue by several intervals, on a real clock or a virtual one
        await loop.run('once');
        expect(fired).toBe(1);
        await loop.run('once');
        expect(fired).toBe(2);
        timer.close();
        await loop.run();
      }));

    it('runs pending callbacks first and due timers at the end of its iteration', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        loop.timer(() => order.push('timer')).start(0);
        loop.callSoon(() => order.push('pending'));
        expect(await loop.run('once')).toBe(false);
        expect(order).toEqual(['pending', 'timer']);
      }));

    it('blocks for the next timer when the only pending callback was cancelled', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        loop.callSoon(() => undefined).cancel();
        loop.timer(() => fired++).start(20);
        // A cancelled callback still counted as pending would make this poll non-blocking, and
        // the iteration would end before the timer is due.
        expect(await loop.run('once')).toBe(false);
        expect(fired).toBe(1);
      }));
  });
}
