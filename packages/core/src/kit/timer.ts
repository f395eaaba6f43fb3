import { checkNumber } from '../errors.js';
import type { Timer } from '../loop.js';
import { HandleBase } from './handle-base.js';
import type { LoopBase } from './loop-base.js';
import type { HeapEntry } from './timer-heap.js';

/** The timer every kit-based backend uses; see {@link Timer} for the contract. */
export class KitTimer extends HandleBase implements Timer, HeapEntry {
  readonly kind = 'timer';
  due = 0;
  seq = 0;
  heapIndex = -1;
  private repeatMs = 0;

  constructor(
    loop: LoopBase,
    readonly callback: (timer: Timer) => void,
  ) {
    super(loop);
  }

  get repeat(): number {
    return this.repeatMs;
  }

  set repeat(value: number) {
    this.repeatMs = checkNumber('repeat', value, 0, Number.MAX_SAFE_INTEGER);
  }

  start(timeout: number, repeat = 0): this {
    this.assertOpen();
    checkNumber('timeout', timeout, 0, Number.MAX_SAFE_INTEGER);
    this.repeatMs = checkNumber('repeat', repeat, 0, Number.MAX_SAFE_INTEGER);
    this.loop.timerStarted(this, timeout);
    this.activate();
    return this;
  }

  stop(): this {
    this.loop.timerStopped(this);
    this.deactivate();
    return this;
  }

  again(): this {
    if (this.repeatMs > 0) this.start(this.repeatMs, this.repeatMs);
    return this;
  }

  dueIn(): number | undefined {
    return this.isActive() ? Math.max(0, this.due - this.loop.now()) : undefined;
  }

  /** Called by the loop when the timer is due: re-arm a repeating timer before its callback, so the callback can stop it. */
  fire(): void {
    if (this.repeatMs > 0) this.loop.timerStarted(this, this.repeatMs);
    else this.deactivate();
    this.callback(this);
  }

  protected override beginClose(): void {
    this.loop.timerStopped(this);
    super.beginClose();
  }
}
