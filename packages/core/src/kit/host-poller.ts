import { performance } from 'node:perf_hooks';
import type { LoopBase, Poller } from './loop-base.js';

// Node's setTimeout fires at once past 2^31-1 ms; longer waits are cut into pieces this long.
const MAX_HOST_DELAY = 2 ** 31 - 1;

/**
 * A {@link Poller} for backends whose I/O is delivered by Node's own event loop (node:net,
 * uWebSockets.js, a `uv_poll` handle): the "wait" is simply returning to Node, which blocks in
 * libuv's poll, and every I/O event the backend hears of is queued with `loop.deliver`.
 *
 * - `wake()` (and a timeout of 0): one `setImmediate`, at most one outstanding. It runs in
 *   Node's check phase, after Node's poll phase has delivered what was ready, so one tick sees
 *   a whole batch of events and reads the clock once for it.
 * - A timeout > 0 (or Infinity): one referenced Node timer, re-armed only when the deadline
 *   changes. It also keeps the process alive while the loop waits with nothing else Node would
 *   count (a lone check hook, say).
 */
export class HostPoller implements Poller {
  private hostTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private deadline = 0;
  private readonly tick = (): void => {
    this.immediate = undefined;
    this.loop.pollTick();
  };
  private readonly timerFired = (): void => {
    this.hostTimer = undefined;
    // Node measures a timeout from the loop time cached at the start of its iteration, so it can
    // fire a few ms before our deadline (and a long wait comes in pieces): wait out the rest, so
    // that the timer the poll was waiting for is really due when the tick runs.
    const left = this.deadline - performance.now();
    if (left > 0) this.armHostTimer(left);
    else this.loop.pollTick();
  };

  constructor(private readonly loop: LoopBase) {}

  poll(timeout: number): void {
    if (this.hostTimer !== undefined) {
      clearTimeout(this.hostTimer);
      this.hostTimer = undefined;
    }
    if (timeout === 0) {
      this.wake();
      return;
    }
    this.deadline = performance.now() + timeout;
    this.armHostTimer(timeout);
  }

  private armHostTimer(timeout: number): void {
    this.hostTimer = setTimeout(this.timerFired, Math.min(Math.ceil(timeout), MAX_HOST_DELAY));
  }

  wake(): void {
    if (this.immediate === undefined) this.immediate = setImmediate(this.tick);
  }

  release(): void {
    if (this.hostTimer !== undefined) {
      clearTimeout(this.hostTimer);
      this.hostTimer = undefined;
    }
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
  }
}
