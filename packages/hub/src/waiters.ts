import type { Greenlet } from './greenlet.js';

/**
 * The greenlets waiting on one primitive, in arrival order, each with the token it had when it
 * began to wait and an optional payload (what it waits for, or what it brings).
 *
 * An entry goes stale when its greenlet is resumed by anything (its token moves on): a killed or
 * timed-out waiter needs no search-and-remove, which would cost O(n) per waiter (O(n²) to kill
 * n waiters). Stale entries are skipped when met and swept out whenever the list has doubled
 * since the last sweep, so the list stays within twice the live waiters, amortised O(1) per wait.
 *
 * Entries are kept flat, three slots each (greenlet, token, payload), so a wait allocates no
 * object.
 */
export class WaiterList {
  #slots: unknown[] = [];
  #head = 0;
  #sweepAt = 48;
  /** The payload of the greenlet last returned by {@link WaiterList.shift}. */
  payload: unknown = undefined;
  /** The token the greenlet last returned by {@link WaiterList.shift} registered with: resume it with this one. */
  token = 0;

  /** Add `greenlet`, which is about to wait with its current token. */
  add(greenlet: Greenlet, payload?: unknown): void {
    const slots = this.#slots;
    slots.push(greenlet, greenlet.token, payload);
    if (slots.length - this.#head >= this.#sweepAt) this.#sweep();
  }

  /**
   * Remove and return the first waiter still waiting (its payload in `payload`, its token in
   * `token`); `undefined` if none.
   */
  shift(): Greenlet | undefined {
    const slots = this.#slots;
    while (this.#head < slots.length) {
      const at = this.#head;
      const greenlet = slots[at] as Greenlet;
      const token = slots[at + 1] as number;
      const live = greenlet.token === token;
      this.payload = slots[at + 2];
      this.token = token;
      slots[at] = slots[at + 2] = undefined;
      this.#head = at + 3;
      if (live) {
        this.#trim();
        return greenlet;
      }
    }
    this.#reset();
    this.payload = undefined;
    return undefined;
  }

  /** The first waiter still waiting, left in place (stale entries before it are dropped). */
  peek(): Greenlet | undefined {
    const slots = this.#slots;
    while (this.#head < slots.length) {
      const greenlet = slots[this.#head] as Greenlet;
      if (greenlet.token === slots[this.#head + 1]) return greenlet;
      slots[this.#head] = slots[this.#head + 2] = undefined;
      this.#head += 3;
    }
    this.#reset();
    return undefined;
  }

  /** `true` when no entry is left, live or stale. */
  get empty(): boolean {
    return this.#head === this.#slots.length;
  }

  /**
   * Take every entry out at once (stale ones included: the caller resumes each through the hub,
   * which checks the token at that moment), leaving the list empty.
   */
  takeAll(): unknown[] {
    const slots = this.#head === 0 ? this.#slots : this.#slots.slice(this.#head);
    this.#slots = [];
    this.#head = 0;
    this.#sweepAt = 48;
    return slots;
  }

  /** Number of live waiters (O(n): for diagnostics and tests, not hot paths). */
  count(): number {
    let live = 0;
    const slots = this.#slots;
    for (let at = this.#head; at < slots.length; at += 3) {
      if ((slots[at] as Greenlet).token === slots[at + 1]) live++;
    }
    return live;
  }

  #sweep(): void {
    // In place: no new array, so a sweep over many live waiters allocates nothing.
    const slots = this.#slots;
    let kept = 0;
    for (let at = this.#head; at < slots.length; at += 3) {
      const greenlet = slots[at] as Greenlet;
      if (greenlet.token !== slots[at + 1]) continue;
      slots[kept] = greenlet;
      slots[kept + 1] = slots[at + 1];
      slots[kept + 2] = slots[at + 2];
      kept += 3;
    }
    slots.length = kept;
    this.#head = 0;
    this.#sweepAt = Math.max(48, kept * 2);
  }

  /** Drop consumed slots once they are the larger part of the array, keeping `shift` O(1) amortised. */
  #trim(): void {
    if (this.#head >= 3072 && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }

  #reset(): void {
    this.#slots.length = 0;
    this.#head = 0;
  }
}
