import { type Context, getcurrent } from './greenlet.js';

/**
 * A variable whose value is per greenlet, after Python's `contextvars.ContextVar`: it
 * reads and writes the current greenlet's {@link Greenlet.context}. A new greenlet
 * starts with an empty context, so it sees the default until it sets a value; to pass
 * values on, assign a context (`child.context = copyContext()` copies, `child.context =
 * getcurrent().context` shares).
 *
 * @example
 * ```ts
 * const requestId = new ContextVar<number>('requestId', 0);
 * requestId.set(7);      // in this greenlet only
 * requestId.get();       // 7 here, 0 in a fresh greenlet
 * ```
 */
export class ContextVar<T> {
  /** The name given at creation, for debugging. */
  readonly name: string;
  /** The value `get()` returns when the current context has none. */
  readonly defaultValue: T | undefined;

  /**
   * @param name - for debugging only; two variables with one name are still distinct
   * @param defaultValue - what `get()` returns when no value is set
   */
  constructor(name: string, defaultValue?: T) {
    this.name = name;
    this.defaultValue = defaultValue;
  }

  /** Returns this variable's value in the current greenlet's context, else the default. */
  get(): T | undefined {
    const context = getcurrent().context;
    if (context !== undefined && context.has(this)) return context.get(this) as T;
    return this.defaultValue;
  }

  /**
   * Sets this variable in the current greenlet's context, creating the context on
   * first use (as Python does), so other greenlets are unaffected unless they share it.
   */
  set(value: T): void {
    const self = getcurrent();
    let context = self.context;
    if (context === undefined) {
      context = new Map();
      self.context = context;
    }
    context.set(this, value);
  }
}

/**
 * Returns a new context holding the current greenlet's values: assign it to another
 * greenlet's `context` to start it with a copy, as Python's `copy_context()`.
 */
export function copyContext(): Context {
  return new Map(getcurrent().context);
}
