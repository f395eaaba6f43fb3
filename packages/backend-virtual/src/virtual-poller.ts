import type { Poller } from '@loop/core/kit';

// Node's setTimeout fires at once past 2^31-1 ms; longer waits are cut into pieces this long.
const MAX_HOST_DELAY = 2 ** 31 - 1;

/** What the poller needs from its loop. */
export interface PollerHost {
  /** The kit's `isPolling()`. */
  isPolling(): boolean;
  /** The kit's `pollTick()`. */
  pollTick(): void;
  /** The loop's cached time, from which the kit computed the poll timeout. */
  now(): number;
  /** The virtual clock. */
  readClock(): number;
  /** Move the virtual clock forward to `time` (never back). */
  jumpTo(time: number): void;
  /** The virtual network's next arrival, or `Infinity`. */
  networkDue(): number;
  /** Deliver the network's packets due by `time`. */
  runNetwork(time: number): void;
}

/** The smallest double above `x` (x ≥ 0): one step of the clock past a deadline rounding put short of its timer. */
function nextUp(x: number): number {
  const bits = new Float64Array([x]);
  const words = new BigUint64Array(bits.buffer);
  words[0] = (words[0] as bigint) + 1n;
  return bits[0] as number;
}

/**
 * The {@link Poller} of virtual time. The wait is a return to Node, as with the kit's
 * `HostPoller`, so promises, Node timers and Node I/O go on while the loop polls; what differs is
 * what ends the wait:
 *
 * - With `timeScale` 0, nothing is waited for. One `setImmediate` later (so that Node's own
 *   callbacks and the microtasks of the last callbacks run first), the clock jumps to the poll's
 *   deadline or to the network's next arrival, whichever is first, and the tick runs: an hour of
 *   virtual sleep costs one host turn.
 * - With `timeScale` > 0, a Node timer waits out the deadline in real time divided by the scale.
 * - A `wake()` ends the wait at once, without moving the clock.
 * - With no deadline, no packet in flight and no wake, the poll waits for a wake (no spin). A
 *   referenced Node timer of 2^31-1 ms keeps the process alive meanwhile, as a real backend's
 *   listening socket would.
 */
export class VirtualPoller implements Poller {
  private deadline = Infinity;
  private woken = false;
  private ticking = false;
  /** How many times poll() was called: a tick that jumped and left it unchanged made no progress. */
  private polls = 0;
  private immediate: NodeJS.Immediate | undefined;
  private hostTimer: NodeJS.Timeout | undefined;
  private readonly tick = (): void => this.runTick();
  private readonly keepAlive = (): void => {
    this.hostTimer = undefined;
    this.arm();
  };

  constructor(
    private readonly loop: PollerHost,
    private readonly timeScale: number,
  ) {}

  poll(timeout: number): void {
    this.polls++;
    this.deadline = timeout === Infinity ? Infinity : this.loop.now() + timeout;
    this.arm();
  }

  wake(): void {
    this.woken = true;
    this.arm();
  }

  /** `true` while a tick runs (the kit's pollTick included). */
  isTicking(): boolean {
    return this.ticking;
  }

  release(): void {
    this.clearHostTimer();
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    this.woken = false;
    this.deadline = Infinity;
  }

  /**
   * Make sure a tick comes for what the poll waits for: at once after a wake, else at the
   * deadline or the network's next arrival. During a tick this waits for the tick's end.
   */
  arm(): void {
    if (this.ticking || this.immediate !== undefined) return;
    if (this.woken) {
      this.clearHostTimer();
      this.immediate = setImmediate(this.tick);
      return;
    }
    const next = Math.min(this.deadline, this.loop.networkDue());
    if (next === Infinity) {
      this.clearHostTimer();
      this.hostTimer = setTimeout(this.keepAlive, MAX_HOST_DELAY);
      return;
    }
    this.clearHostTimer();
    const wait = this.timeScale === 0 ? 0 : (next - this.loop.readClock()) / this.timeScale;
    if (wait <= 0) this.immediate = setImmediate(this.tick);
    else this.hostTimer = setTimeout(this.tick, Math.min(Math.ceil(wait), MAX_HOST_DELAY));
  }

  private runTick(): void {
    this.immediate = undefined;
    this.clearHostTimer();
    if (!this.loop.isPolling()) return; // a stale tick after the poll phase ended
    let jumpedTo = Number.NaN;
    if (!this.woken) {
      const next = Math.min(this.deadline, this.loop.networkDue());
      if (this.timeScale === 0) {
        this.loop.jumpTo(next);
        jumpedTo = next;
      } else if (this.loop.readClock() < next) {
        this.arm(); // a Node timer fired early, or a piece of a long wait: wait out the rest
        return;
      }
    }
    const polls = this.polls;
    this.ticking = true;
    try {
      this.loop.runNetwork(this.loop.readClock());
      // Whatever the network delivered runs in this tick: a wake it caused is spent.
      this.woken = false;
      this.loop.pollTick();
    } finally {
      this.ticking = false;
    }
    if (!this.loop.isPolling()) return;
    // The clock reached the deadline and the kit still waits for the same timer: `now + timeout`
    // rounded below the timer's due time. Step past it so the next tick makes progress.
    if (jumpedTo === this.deadline && this.polls === polls && !this.woken && this.loop.networkDue() > jumpedTo) {
      this.deadline = nextUp(this.deadline);
    }
    this.arm();
  }

  private clearHostTimer(): void {
    if (this.hostTimer !== undefined) {
      clearTimeout(this.hostTimer);
      this.hostTimer = undefined;
    }
  }
}
