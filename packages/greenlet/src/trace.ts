import { InvalidArgumentError } from '@loop/core';
import type { Greenlet } from './greenlet.js';

/**
 * The two events a trace function sees: `'switch'` when a value is delivered to a
 * greenlet, `'throw'` when an exception is (python-greenlet's names).
 */
export type TraceEvent = 'switch' | 'throw';

/**
 * A trace function installed with {@link settrace}. It is called synchronously after
 * control has moved to `target` (so `getcurrent()` is `target`) and before `target`
 * runs. It only observes: a switch or throw from inside it throws
 * `ERR_GREENLET_SWITCH_IN_TRACER`. If it throws, tracing is turned off and the
 * exception is raised in `target` in place of the value it was being sent.
 */
export type TraceFunction = (event: TraceEvent, args: [origin: Greenlet, target: Greenlet]) => void;

/**
 * Tracer state shared with the trampoline. A plain object rather than exported `let`s
 * because ES modules cannot assign another module's bindings, and the trampoline both
 * reads `fn` on every switch and clears it when the tracer throws.
 * @internal
 */
export const traceState: { fn: TraceFunction | null; busy: boolean } = { fn: null, busy: false };

/** Returned by {@link callTracer} when the tracer did not throw. @internal */
export const TRACE_OK: unique symbol = Symbol('greenlet.traceOk');

/**
 * Calls the installed tracer for one switch. Returns {@link TRACE_OK}, or the value the
 * tracer threw (after disabling tracing), for the trampoline to raise in `target`.
 * @internal
 */
export function callTracer(
  fn: TraceFunction,
  isThrow: boolean,
  origin: Greenlet,
  target: Greenlet,
): unknown {
  traceState.busy = true;
  try {
    fn(isThrow ? 'throw' : 'switch', [origin, target]);
    return TRACE_OK;
  } catch (err) {
    // python-greenlet's rule: a tracer that fails is removed, so one bug cannot make
    // every later switch fail too.
    traceState.fn = null;
    return err;
  } finally {
    traceState.busy = false;
  }
}

/**
 * Installs `fn` as the greenlet trace function (or removes it with `null`) and returns
 * the one it replaces, so callers can restore it. The hub's blocking monitor builds on
 * this. A greenlet switching to itself is traced too (origin and target the same), as in
 * python-greenlet; errors the trampoline raises instead of a switch (no `run`, a wrong
 * `yield`) are not switches and are not traced.
 *
 * @throws InvalidArgumentError (a `TypeError`, code `ERR_INVALID_ARG`) if `fn` is neither a function nor `null`
 *
 * @example
 * ```ts
 * const seen: string[] = [];
 * const previous = settrace((event, [origin, target]) => seen.push(`${event} ${String(origin)} -> ${String(target)}`));
 * try { greenlet(function* () { return 1; }).switch(); } finally { settrace(previous); }
 * ```
 */
export function settrace(fn: TraceFunction | null): TraceFunction | null {
  if (fn !== null && typeof fn !== 'function') {
    throw new InvalidArgumentError(`settrace expects a function or null, got ${typeof fn}`);
  }
  const previous = traceState.fn;
  traceState.fn = fn;
  return previous;
}

/** Returns the installed trace function, or `null` when none is. */
export function gettrace(): TraceFunction | null {
  return traceState.fn;
}
