import { performance } from 'node:perf_hooks';
import type { LoopBase, Poller } from './loop-base.js';

// Node's setTimeout fires at once past 2^31-1 ms; longer waits are cut into pieces this long.
const MAX_HOST_DELAY = 2 ** 31 - 1;

/**
 * A {@link Poller} for backends whose I/O is delivered by Node's own event loop (node:net,
 * uWebSockets.js): the "wait" is simply returning to Node, which blocks in libuv's poll.
 *
 * - timeout 0: one `setImmediate`, so Node polls without blocking and ends the wait in its
 *   check phase.
 * - timeout > 0 (or Infinity): one referenced Node timer. It also keeps the process alive while
 *   the loop waits with nothing else Node would count (a lone check hook, say).
 * - `wake()`: one `setImmediate`, at most one outstanding.
 */
export class HostPoller implements Poller {
  private hostTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly finish = (): void => {
    this.immediate = undefined;
    this.loop.pollDone();
  };
  private deadline = 0;
  private readonly timerFired = (): void => {
    this.hostTimer = undefined;
    // Node measures a timeout from the loop time cached at the start of its iteration, so it can
    // fire a few ms before our deadline (and a long wait comes in pieces): wait out the rest, so
    // that the timer the poll was waiting for is really due when the poll ends.
    const left = this.deadline - performance.now();
    if (left > 0) this.armHostTimer(left);
    else if (this.immediate === undefined) this.loop.pollDone();
  };

  constructor(private readonly loop: LoopBase) {}

  poll(timeout: number): void {
    if (timeout === 0) {
      this.wake();
      return;
    }
    this.deadline = performance.now() + timeout;
    if (this.hostTimer !== undefined) clearTimeout(this.hostTimer);
    this.armHostTimer(timeout);
  }

  private armHostTimer(timeout: number): void {
    this.hostTimer = setTimeout(this.timerFired, Math.min(Math.ceil(timeout), MAX_HOST_DELAY));
  }

  wake(): void {
    if (this.immediate === undefined) this.immediate = setImmediate(this.finish);
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
