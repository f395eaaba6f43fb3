import type { LoopBase, Poller } from './loop-base.js';

// Node's setTimeout fires at once past 2^31-1 ms; longer waits are cut into pieces this long
// (a wake-up at the end of a piece is only a spurious poll return: the loop recomputes).
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
  private readonly timerFired = (): void => {
    this.hostTimer = undefined;
    if (this.immediate === undefined) this.loop.pollDone();
  };

  constructor(private readonly loop: LoopBase) {}

  poll(timeout: number): void {
    if (timeout === 0) {
      this.wake();
      return;
    }
    if (this.hostTimer !== undefined) clearTimeout(this.hostTimer);
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
