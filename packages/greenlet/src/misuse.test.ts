// Misuse paths and the errors they raise: each error names its code and says what to do instead,
// and a misuse leaves nothing behind that breaks the next switch. Found by mutation testing (see
// CONTRIBUTING.md): each test pins a behaviour that a one-line change broke while every other
// greenlet test stayed green.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GreenletError, GreenletExit } from './errors.js';
import { Greenlet, getcurrent, getmain, greenlet } from './greenlet.js';
import { type TraceEvent, settrace } from './trace.js';

/** Runs `fn` and returns what it throws; fails the test if it does not throw. */
function thrownBy(fn: () => unknown): GreenletError {
  try {
    fn();
  } catch (err) {
    return err as GreenletError;
  }
  throw new Error('expected a throw');
}

/** Records every trace event as `event origin->target`, with greenlets named by `names`. */
function recordTrace(names: Map<Greenlet, string>): string[] {
  const events: string[] = [];
  const name = (g: Greenlet): string => names.get(g) ?? '?';
  settrace((event: TraceEvent, [origin, target]) => events.push(`${event} ${name(origin)}->${name(target)}`));
  return events;
}

afterEach(() => {
  settrace(null);
});

/** A greenlet that proves switching works: it switches to main once and returns. */
function switchesCleanly(): boolean {
  const g = greenlet(function* () {
    const back = (yield* getmain().switch('out')) as string;
    return `${back} and done`;
  });
  return g.switch() === 'out' && g.switch('back') === 'back and done';
}

describe('error classes', () => {
  it('name themselves in stack traces and messages: GreenletError, GreenletExit', () => {
    const error = new GreenletError('ERR_GREENLET_NO_RUN', 'no run');
    expect(error.name).toBe('GreenletError');
    expect(String(error)).toBe('GreenletError: no run');
    const exit = new GreenletExit();
    expect(exit.name).toBe('GreenletExit');
    expect(exit.message).toBe('greenlet killed');
    expect(exit.code).toBe('ERR_GREENLET_EXIT');
    expect(new GreenletExit('shutdown').message).toBe('shutdown');
  });
});

describe('every misuse error says what to do instead', () => {
  it('names the run it refused, the parent rules and the context rule', () => {
    expect(thrownBy(() => new Greenlet(42 as never)).message).toBe('run must be a function, got number');
    expect(thrownBy(() => new Greenlet(null, {} as never)).message).toBe('parent must be a greenlet');
    const g = greenlet(() => undefined);
    expect(thrownBy(() => (g.parent = 'main' as never)).message).toBe('parent must be a greenlet');
    expect(thrownBy(() => (getmain().parent = g)).message).toContain('main greenlet has no parent');
    expect(thrownBy(() => (g.parent = g)).message).toContain('cyclic parent chain');
    expect(thrownBy(() => (g.context = {} as never)).message).toBe('context must be a Map or undefined');
    expect(thrownBy(() => settrace('trace' as never)).message).toBe('settrace expects a function or null, got string');
  });

  it('says which greenlet has no run', () => {
    const error = thrownBy(() => new Greenlet().switch());
    expect(error.code).toBe('ERR_GREENLET_NO_RUN');
    expect(error.message).toBe('cannot start Greenlet<pending>: it has no run');
  });

  it('tells a switch not yield*-ed to use yield* through every frame', () => {
    const g = greenlet(function* () {
      void getmain().switch('forgotten');
      return 'returned';
    });
    const error = thrownBy(() => g.switch());
    expect(error.code).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
    expect(error.message).toContain('was called inside a greenlet without yield*');
    expect(error.message).toContain('a generator called with yield*');
  });

  it('tells a yield of a switch to add the star, and a yield of a value to yield only through switches', () => {
    const withoutStar = greenlet(function* () {
      yield getmain().switch('wrong');
    });
    const value = greenlet(function* () {
      yield 5;
    });
    expect(thrownBy(() => withoutStar.switch()).message).toContain('(with the star)');
    expect(thrownBy(() => value.switch()).message).toContain('a greenlet yielded a value of its own');
  });

  it('tells a tracer that it observes switches and cannot make them, for switch and throw alike', () => {
    const target = greenlet(function* () {
      yield* getmain().switch();
    });
    const seen: string[] = [];
    settrace(() => {
      settrace(null);
      for (const attempt of [() => target.switch(), () => target.throw(new Error('from the tracer'))]) {
        try {
          attempt();
          seen.push('no error');
        } catch (err) {
          seen.push(`${(err as GreenletError).code}: ${(err as GreenletError).message}`);
        }
      }
    });
    greenlet(() => undefined).switch();
    const refusal = 'ERR_GREENLET_SWITCH_IN_TRACER: a trace function cannot switch: tracers observe switches, they do not make them';
    expect(seen).toEqual([refusal, refusal]);
    expect(target.started).toBe(false);
  });
});

describe('misuse that leaves nothing behind', () => {
  it('reports a value yielded after a switch not yield*-ed as that forgotten switch', () => {
    const g = greenlet(function* () {
      void getmain().switch('forgotten');
      try {
        yield 5;
      } catch (err) {
        return (err as GreenletError).code;
      }
      return 'no error';
    });
    expect(g.switch()).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
    expect(switchesCleanly()).toBe(true);
  });

  it('drops the forgotten switch of a greenlet that then throws: its parent gets the error, and the next switch works', () => {
    const g = greenlet(function* () {
      void getmain().switch('forgotten');
      throw new RangeError('after a forgotten switch');
    });
    expect(thrownBy(() => g.switch())).toBeInstanceOf(RangeError);
    expect(switchesCleanly()).toBe(true);
  });

  it('drops the forgotten switch of a greenlet that then returns: its parent gets ERR_GREENLET_SWITCH_NOT_YIELDED, and the next switch works', () => {
    for (let round = 0; round < 2; round++) {
      // Twice: a forgotten switch left behind by the first round would fail the second one at
      // its own forgotten switch, before it returns.
      let returned = false;
      const g = greenlet(function* () {
        void getmain().switch('forgotten');
        returned = true;
        return 'returned';
      });
      expect(thrownBy(() => g.switch()).code).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
      expect(returned).toBe(true);
    }
    expect(switchesCleanly()).toBe(true);
  });

  it('treats a switch request consumed by the greenlet itself as no switch: yielding anything else is a bare yield', () => {
    const main = getmain();
    const g = greenlet(function* () {
      try {
        for (const token of main.switch('never delivered')) {
          void token;
          yield 'something else';
        }
      } catch (err) {
        return (err as GreenletError).code;
      }
      return 'no error';
    });
    expect(g.switch()).toBe('ERR_GREENLET_BARE_YIELD');
    expect(switchesCleanly()).toBe(true);
  });

  it('reports a bare yield as such in the first greenlet of a fresh module instance (a worker thread, say)', async () => {
    vi.resetModules();
    const fresh = (await import('./greenlet.js')) as typeof import('./greenlet.js');
    const g = fresh.greenlet(function* () {
      try {
        yield 'first thing this module instance ever runs';
      } catch (err) {
        return (err as GreenletError).code;
      }
      return 'no error';
    });
    expect(g.switch()).toBe('ERR_GREENLET_BARE_YIELD');
  });
});

describe('run results that are not generators', () => {
  it('hands a plain run’s null, iterator or thenable-like object to the parent as a value', () => {
    const iterator = [1, 2].values(); // has next() but no throw(): not a generator
    const throwing = { throw: () => 'not a generator either' }; // throw() but no next()
    expect(greenlet(() => null).switch()).toBeNull();
    expect(greenlet(() => iterator).switch()).toBe(iterator);
    expect(greenlet(() => throwing).switch()).toBe(throwing);
    expect([...iterator]).toEqual([1, 2]); // nobody iterated it
  });
});

describe('where a failed start is raised, and what the tracer sees of it', () => {
  it('raises ERR_GREENLET_NO_RUN in a live greenlet that switched to a greenlet with no run, whoever its parent is', () => {
    const main = getmain();
    const noRun = new Greenlet(null, main);
    const caller = greenlet(function* () {
      try {
        yield* noRun.switch();
      } catch (err) {
        return `caught ${(err as GreenletError).code}`;
      }
      return 'no error';
    });
    expect(caller.switch()).toBe('caught ERR_GREENLET_NO_RUN');
  });

  it('does not trace a switch that failed to start a greenlet with no run: no switch happened', () => {
    const main = getmain();
    const noRun = new Greenlet(null, main);
    const caller = greenlet(function* () {
      try {
        yield* noRun.switch();
      } catch {
        return 'caught';
      }
      return 'no error';
    });
    const events = recordTrace(
      new Map<Greenlet, string>([
        [main, 'main'],
        [caller, 'caller'],
        [noRun, 'noRun'],
      ]),
    );
    caller.switch();
    expect(events).toEqual(['switch main->caller', 'switch caller->main']);
  });

  it('traces the error a dying greenlet’s result turns into when its parent has no run, as a throw to the grandparent', () => {
    const main = getmain();
    const parent = new Greenlet(null, main);
    const child = new Greenlet(() => 'result', parent);
    const events = recordTrace(
      new Map<Greenlet, string>([
        [main, 'main'],
        [parent, 'parent'],
        [child, 'child'],
      ]),
    );
    expect(thrownBy(() => child.switch()).code).toBe('ERR_GREENLET_NO_RUN');
    expect(events).toEqual(['switch main->child', 'throw child->main']);
  });

  it('does not trace the error raised at a bare yield: it replaces no switch', () => {
    const main = getmain();
    const g = greenlet(function* () {
      try {
        yield 5;
      } catch {
        return 'caught';
      }
      return 'no error';
    });
    const events = recordTrace(
      new Map<Greenlet, string>([
        [main, 'main'],
        [g, 'g'],
      ]),
    );
    expect(g.switch()).toBe('caught');
    expect(events).toEqual(['switch main->g', 'switch g->main']);
  });

  it('traces main throwing to itself while a tracer is installed, then throws', () => {
    const main = getmain();
    const events = recordTrace(new Map<Greenlet, string>([[main, 'main']]));
    const error = new RangeError('to myself');
    expect(thrownBy(() => main.throw(error))).toBe(error);
    expect(events).toEqual(['throw main->main']);
    expect(getcurrent()).toBe(main);
  });
});

describe('whatever escapes the trampoline', () => {
  it('leaves main code running as the main greenlet, even an error thrown by a greenlet’s own toString', () => {
    class Opaque extends Greenlet {
      override toString(): string {
        throw new TypeError('toString refused');
      }
    }
    const noRun = new Opaque(null, getmain());
    const caller = greenlet(function* () {
      yield* noRun.switch();
    });
    expect(thrownBy(() => caller.switch())).toBeInstanceOf(TypeError);
    expect(getcurrent()).toBe(getmain());
    expect(switchesCleanly()).toBe(true);
  });
});
