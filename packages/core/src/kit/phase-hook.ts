import type { PhaseHook } from '../loop.js';
import { HandleBase } from './handle-base.js';
import type { LoopBase } from './loop-base.js';

/** Which hook list a {@link KitPhaseHook} belongs to. */
export type HookPhase = 'idle' | 'prepare' | 'check';

/** An idle, prepare or check hook of a kit-based loop; see {@link PhaseHook}. */
export class KitPhaseHook extends HandleBase implements PhaseHook {
  constructor(
    loop: LoopBase,
    readonly kind: HookPhase,
    readonly callback: (hook: PhaseHook) => void,
  ) {
    super(loop);
  }

  start(): this {
    this.assertOpen();
    if (!this.isActive()) {
      this.activate();
      this.loop.hookStarted(this);
    }
    return this;
  }

  stop(): this {
    if (this.isActive()) {
      this.deactivate();
      this.loop.hookStopped(this);
    }
    return this;
  }

  protected override beginClose(): void {
    this.stop();
    super.beginClose();
  }
}
