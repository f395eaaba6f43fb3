import { EventLoopError } from '../errors.js';
import type { Handle } from '../loop.js';
import type { LoopBase } from './loop-base.js';

/**
 * The state machine every handle shares: inactive → active → inactive …, and once `close()`
 * is called, closing → closed (its close callback has run in the close phase).
 *
 * Subclasses call {@link activate} / {@link deactivate}; this class keeps the loop's count of
 * active referenced handles (what keeps `run()` going) and its set of live handles (what makes
 * `close()` refuse) in step.
 */
export abstract class HandleBase implements Handle {
  /** Short kind name used in diagnostics, such as `'timer'`. */
  abstract readonly kind: string;
  private active = false;
  private referenced = true;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closeRequested = false;
  private closeCallback: (() => void) | undefined;

  constructor(readonly loop: LoopBase) {}

  isActive(): boolean {
    return this.active;
  }

  isClosing(): boolean {
    return this.state !== 'open';
  }

  hasRef(): boolean {
    return this.referenced;
  }

  ref(): this {
    if (!this.referenced) {
      this.referenced = true;
      if (this.active) this.loop.refCount++;
      this.refChanged(true);
    }
    return this;
  }

  unref(): this {
    if (this.referenced) {
      this.referenced = false;
      if (this.active) this.loop.refCount--;
      this.refChanged(false);
    }
    return this;
  }

  close(onClose?: () => void): void {
    if (this.closeRequested) return;
    this.closeRequested = true;
    this.closeCallback = onClose;
    if (this.state === 'open') {
      this.state = 'closing';
      this.loop.closingCount++;
      this.beginClose();
    } else if (this.state === 'closed') {
      // The host closed it earlier (the peer hung up): onClose still runs in a close phase.
      this.loop.closingCount++;
      this.loop.queueClose(this);
    } // 'closing': onClose runs with the close already queued.
  }

  /** Mark the handle active: it now keeps the loop alive (if referenced) and counts as live. */
  protected activate(): void {
    if (this.active) return;
    this.active = true;
    if (this.referenced) this.loop.refCount++;
    const live = this.loop.liveHandles;
    live.set(this.kind, (live.get(this.kind) ?? 0) + 1);
    this.loop.liveCount++;
  }

  /** Mark the handle inactive. */
  protected deactivate(): void {
    if (!this.active) return;
    this.active = false;
    if (this.referenced) this.loop.refCount--;
    const live = this.loop.liveHandles;
    live.set(this.kind, (live.get(this.kind) as number) - 1);
    this.loop.liveCount--;
  }

  /** Throw `ERR_HANDLE_CLOSED` if `close()` was called; used by `start`-like methods. */
  protected assertOpen(): void {
    if (this.state !== 'open') throw new EventLoopError('ERR_HANDLE_CLOSED', `this ${this.kind} was closed and cannot be started again`);
  }

  /** Mirror a ref change onto a host object (a Node socket, say). Default: nothing. */
  protected refChanged(_referenced: boolean): void {}

  /**
   * Release what the handle holds. The default stops it and queues its close callback at once;
   * streams override it to queue the callback only when their fd is really closed.
   */
  protected beginClose(): void {
    this.deactivate();
    this.loop.queueClose(this);
  }

  /**
   * The host closed the underlying resource (the peer hung up, say, or a `close()` completed):
   * the handle stops being live and its close callbacks are queued for the close phase.
   */
  protected closedByHost(): void {
    if (this.state === 'open') {
      this.state = 'closing';
      this.loop.closingCount++;
    }
    this.deactivate();
    this.loop.queueClose(this);
  }

  /** Run by the loop in the close phase. */
  runCloseCallbacks(): void {
    this.loop.closingCount--;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.closed();
    }
    const callback = this.closeCallback;
    this.closeCallback = undefined;
    if (callback) callback();
  }

  /** Hook for subclasses that emit their own close event in the close phase. */
  protected closed(): void {}
}
