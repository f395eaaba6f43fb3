// Behaviours ported from python-greenlet's test_contextvars.py: each greenlet has its
// own context, a new greenlet's is empty, and contexts can be copied or shared.
import { describe, expect, it } from 'vitest';
import { ContextVar, copyContext } from './context-var.js';
import { GreenletError } from './errors.js';
import { type Context, type Greenlet, getcurrent, greenlet } from './greenlet.js';

const ID = new ContextVar<number>('id');

/**
 * python's _increment: check the value a greenlet starts with, set its own id, and
 * count under the id it sees twice, switching back to main after each count.
 */
function* increment(id: number, counts: Map<number | undefined, number>, seenAtStart: unknown[]) {
  seenAtStart.push(ID.get());
  ID.set(id);
  for (let i = 0; i < 2; i++) {
    const key = ID.get();
    counts.set(key, (counts.get(key) ?? 0) + 1);
    yield* (getcurrent().parent as Greenlet).switch();
  }
}

/** Runs four counting greenlets twice round, the way python's _test_context does. */
function runCounters(prepare: (g: Greenlet) => void) {
  const saved = getcurrent().context;
  getcurrent().context = new Map([[ID, 0]]);
  const counts = new Map<number | undefined, number>();
  const seenAtStart: unknown[] = [];
  const lets = [1, 2, 3, 4].map((id) => greenlet(function* () {
    yield* increment(id, counts, seenAtStart);
  }));
  for (const g of lets) prepare(g);
  for (let round = 0; round < 2; round++) {
    const key = ID.get();
    counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const g of lets) g.switch();
  }
  for (const g of lets) g.switch();
  const dead = lets.map((g) => g.dead);
  getcurrent().context = saved;
  return { counts: Object.fromEntries(counts) as Record<string, number>, seenAtStart, dead };
}

describe('per-greenlet context (test_contextvars.py)', () => {
  it('starts a new greenlet with an empty context, so it sees only defaults', () => {
    const result = runCounters(() => undefined);
    expect(result.seenAtStart).toEqual([undefined, undefined, undefined, undefined]);
    expect(result.counts).toEqual({ 0: 2, 1: 2, 2: 2, 3: 2, 4: 2 });
    expect(result.dead).toEqual([true, true, true, true]);
  });

  it('propagates values into a greenlet given a copied context without sharing its changes', () => {
    const result = runCounters((g) => {
      g.context = copyContext();
    });
    expect(result.seenAtStart).toEqual([0, 0, 0, 0]);
    expect(result.counts).toEqual({ 0: 2, 1: 2, 2: 2, 3: 2, 4: 2 });
  });

  it('lets greenlets that share one context see and change the same values', () => {
    const result = runCounters((g) => {
      g.context = getcurrent().context;
    });
    expect(result.seenAtStart).toEqual([0, 1, 2, 3]);
    expect(result.counts).toEqual({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 6 });
  });

  it('switches the values a running greenlet sees when its context is assigned', () => {
    const log: unknown[] = [];
    let oldContext: Context | undefined;
    let newContext: Context | undefined;
    const gr = greenlet(function* (this: Greenlet) {
      log.push(ID.get(), this.context);
      ID.set(1); // created on first use
      oldContext = this.context;
      log.push(ID.get());
      this.context = undefined;
      log.push(ID.get());
      ID.set(2);
      newContext = this.context;
      yield* (this.parent as Greenlet).switch();
      log.push(ID.get()); // main switched us back to oldContext
      this.context = newContext;
      log.push(ID.get());
      yield* (this.parent as Greenlet).switch();
      log.push(ID.get(), this.context); // main cleared it
    });
    expect(gr.context).toBeUndefined();
    gr.switch();
    expect(newContext).not.toBe(oldContext);
    expect(gr.context).toBe(newContext);
    expect(oldContext?.get(ID)).toBe(1);
    gr.context = oldContext;
    gr.switch();
    expect(gr.context).toBe(newContext);
    gr.context = undefined;
    gr.switch();
    expect(log).toEqual([undefined, undefined, 1, undefined, 1, 2, undefined, undefined]);
  });

  it('keeps a dead greenlet\'s context readable and assignable', () => {
    const g = greenlet(() => ID.set(9));
    g.switch();
    expect(g.context?.get(ID)).toBe(9);
    const replacement: Context = new Map();
    g.context = replacement;
    expect(g.context).toBe(replacement);
  });

  it('returns the default of a variable that has no value in the current context', () => {
    const withDefault = new ContextVar('with default', 'fallback');
    expect(greenlet(() => withDefault.get()).switch()).toBe('fallback');
  });

  it('refuses a context that is not a Map with ERR_INVALID_ARG', () => {
    const g = greenlet(() => undefined);
    let code: unknown;
    try {
      g.context = {} as never;
    } catch (err) {
      code = (err as GreenletError).code;
    }
    expect(code).toBe('ERR_INVALID_ARG');
  });
});
