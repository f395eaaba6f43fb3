// Behaviours ported from python-greenlet's test_tracing.py.
import { afterEach, describe, expect, it } from 'vitest';
import { GreenletError } from './errors.js';
import { type Greenlet, getcurrent, greenlet } from './greenlet.js';
import { type TraceEvent, gettrace, settrace } from './trace.js';

class SomeError extends Error {}

type Action = [TraceEvent, Greenlet, Greenlet];

/** Installs a tracer that records every event (and optionally fails); returns the record. */
function recordTrace(failWith?: Error): Action[] {
  const actions: Action[] = [];
  settrace((event, [origin, target]) => {
    actions.push([event, origin, target]);
    if (failWith !== undefined) throw failWith;
  });
  return actions;
}

afterEach(() => {
  settrace(null);
});

describe('settrace (test_tracing.py)', () => {
  it('reports each switch and throw with its origin and target', () => {
    const main = getcurrent();
    const actions = recordTrace();
    const g1 = greenlet(() => undefined);
    g1.switch();
    const g2 = greenlet(() => {
      throw new SomeError();
    });
    expect(() => {
      g2.switch();
    }).toThrow(SomeError);
    settrace(null);
    expect(actions).toEqual([
      ['switch', main, g1],
      ['switch', g1, main],
      ['switch', main, g2],
      ['throw', g2, main],
    ]);
  });

  it('disables tracing when the tracer throws, raising its error in the switch target', () => {
    const main = getcurrent();
    const g = greenlet(function* () {
      yield* main.switch();
    });
    g.switch();
    const actions = recordTrace(new SomeError());
    // The tracer fails on entry to g: g dies with the error, which reaches main.
    expect(() => {
      g.switch();
    }).toThrow(SomeError);
    expect(gettrace()).toBeNull();
    expect(actions).toEqual([['switch', main, g]]);
    expect(g.dead).toBe(true);
  });

  it('kills an unstarted greenlet without running it when the tracer throws on its start', () => {
    const ran: string[] = [];
    const g = greenlet(() => {
      ran.push('run');
    });
    recordTrace(new SomeError());
    expect(() => {
      g.switch();
    }).toThrow(SomeError);
    expect(ran).toEqual([]);
    expect(g.dead).toBe(true);
  });

  it('returns the previous tracer, so installing the same one twice is harmless', () => {
    const tracer = () => undefined;
    expect(settrace(tracer)).toBeNull();
    expect(settrace(tracer)).toBe(tracer);
    expect(settrace(null)).toBe(tracer);
    expect(gettrace()).toBeNull();
  });

  it('calls the tracer after control has moved, so getcurrent inside it is the target', () => {
    const currents: Greenlet[] = [];
    settrace(() => {
      currents.push(getcurrent());
    });
    const g = greenlet(() => undefined);
    g.switch();
    settrace(null);
    expect(currents).toEqual([g, getcurrent()]);
  });

  it('refuses a switch from inside the tracer with ERR_GREENLET_SWITCH_IN_TRACER', () => {
    const codes: unknown[] = [];
    const other = greenlet(() => undefined);
    settrace(() => {
      try {
        other.switch();
      } catch (err) {
        codes.push((err as GreenletError).code);
      }
    });
    expect(greenlet(() => 'traced').switch()).toBe('traced');
    settrace(null);
    expect(codes).toEqual(['ERR_GREENLET_SWITCH_IN_TRACER', 'ERR_GREENLET_SWITCH_IN_TRACER']);
    expect(other.started).toBe(false);
  });

  it('traces a greenlet switching to itself like any other switch', () => {
    const main = getcurrent();
    const actions = recordTrace();
    const g = greenlet(function* (this: Greenlet) {
      return yield* this.switch('self');
    });
    expect(g.switch()).toBe('self');
    expect(main.switch(5)).toBe(5);
    settrace(null);
    expect(actions).toEqual([
      ['switch', main, g],
      ['switch', g, g],
      ['switch', g, main],
      ['switch', main, main],
    ]);
  });

  it('does not trace the error raised in place of a switch to a greenlet with no run', () => {
    const main = getcurrent();
    const actions = recordTrace();
    expect(() => {
      greenlet().switch();
    }).toThrow(expect.objectContaining({ code: 'ERR_GREENLET_NO_RUN' }));
    settrace(null);
    expect(actions).toEqual([]);
    expect(getcurrent()).toBe(main);
  });

  it('rejects a tracer that is not a function with ERR_INVALID_ARG, a TypeError', () => {
    expect(() => settrace(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => settrace(42 as never)).toThrow(TypeError);
    expect(gettrace()).toBeNull();
  });
});
