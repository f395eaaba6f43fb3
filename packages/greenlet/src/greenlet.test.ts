// Behaviours ported from python-greenlet's test_greenlet.py and test_throw.py: one
// test per behaviour, named after it. Order is asserted through recorded logs.
import { EventLoopError } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { GreenletError, GreenletExit } from './errors.js';
import { Greenlet, getcurrent, getmain, greenlet } from './greenlet.js';

class SomeError extends Error {}

/** Switches to the current greenlet's parent: python's `getcurrent().parent.switch(...)`. */
function* toParent(...args: unknown[]): Generator<unknown, unknown, unknown> {
  const received: unknown = yield* (getcurrent().parent as Greenlet).switch(...args);
  return received;
}

/** Runs `fn` and returns what it throws; fails the test if it does not throw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('switch (test_greenlet.py)', () => {
  it('takes turns between main and a greenlet, each switch resuming the other where it stopped', () => {
    const log: number[] = [];
    const g = greenlet(function* () {
      log.push(1);
      yield* toParent();
      log.push(3);
    });
    log.push(0);
    g.switch();
    log.push(2);
    g.switch();
    log.push(4);
    expect(log).toEqual([0, 1, 2, 3, 4]);
  });

  it('runs two children of main independently, each dying when its run returns', () => {
    const log: string[] = [];
    function* f(name: string) {
      log.push(`${name} start`);
      yield* toParent();
      log.push(`${name} end`);
    }
    const g = greenlet(f);
    const h = greenlet(f);
    g.switch('g');
    h.switch('h');
    h.switch();
    expect(h.dead).toBe(true);
    expect(g.dead).toBe(false);
    g.switch();
    expect(g.dead).toBe(true);
    expect(log).toEqual(['g start', 'h start', 'h end', 'g end']);
  });

  it('lets a greenlet start a child whose switch to its parent returns to the creator', () => {
    const log: string[] = [];
    const outer = greenlet(function* () {
      log.push('a');
      const inner = greenlet(function* () {
        log.push('b');
        yield* toParent();
      });
      yield* inner.switch();
      log.push('c');
    });
    outer.switch();
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('passes the first switch\'s arguments to run as its parameters', () => {
    const g = greenlet(function* (a: number, b: number) {
      return [a, b];
    });
    expect(g.switch(4, 2)).toEqual([4, 2]);
  });

  it('calls run with the greenlet as this', () => {
    const g = greenlet(function* (this: Greenlet) {
      return this;
    });
    expect(g.switch()).toBe(g);
  });

  it('delivers undefined for a switch with no value', () => {
    const g = greenlet(function* () {
      return yield* toParent('ready');
    });
    g.switch();
    expect(g.switch()).toBeUndefined();
  });

  it('delivers the value itself for a switch with one value', () => {
    const g = greenlet(function* () {
      return yield* toParent('ready');
    });
    expect(g.switch()).toBe('ready');
    const payload = [1, 2];
    expect(g.switch(payload)).toBe(payload);
  });

  it('delivers an array of the values for a switch with several values', () => {
    const received: unknown[] = [];
    const g = greenlet(function* () {
      received.push(yield* toParent(1, 2));
      received.push(yield* toParent());
    });
    expect(g.switch()).toEqual([1, 2]);
    g.switch('x', 'y', 'z');
    expect(received).toEqual([['x', 'y', 'z']]);
  });

  it('returns a finished greenlet\'s return value from the switch that resumed its parent', () => {
    const g = greenlet(function* () {
      yield* toParent();
      return 'meaning of life';
    });
    g.switch();
    expect(g.switch()).toBe('meaning of life');
    expect(g.dead).toBe(true);
  });

  it('returns the values at once when a greenlet switches to itself', () => {
    expect(getcurrent().switch(42)).toBe(42);
    expect(getcurrent().switch(1, 2)).toEqual([1, 2]);
    const g = greenlet(function* (this: Greenlet) {
      return yield* this.switch('self');
    });
    expect(g.switch()).toBe('self');
  });

  it('reports a greenlet as pending, then started and active, then dead and inactive', () => {
    const states: boolean[][] = [];
    const record = (g: Greenlet) => states.push([g.started, g.active, g.dead]);
    const g = greenlet(function* (this: Greenlet) {
      record(this);
      yield* toParent();
    });
    record(g);
    g.switch();
    record(g);
    g.switch();
    record(g);
    expect(states).toEqual([
      [false, false, false],
      [true, true, false],
      [true, true, false],
      [true, false, true],
    ]);
  });

  it('reports the main greenlet as started, active, never dead, and without parent', () => {
    const main = getcurrent();
    expect([main.started, main.active, main.dead, main.parent]).toEqual([true, true, false, null]);
  });

  it('drops run once the greenlet has started', () => {
    const seen: string[] = [];
    const g = greenlet(function* (this: Greenlet) {
      seen.push(typeof this.run);
    });
    expect(typeof g.run).toBe('function');
    g.switch();
    expect(seen).toEqual(['undefined']);
  });

  it('raises ERR_GREENLET_NO_RUN in the caller when switching to a greenlet with no run', () => {
    const g = greenlet();
    const err = thrownBy(() => g.switch());
    expect(err).toBeInstanceOf(GreenletError);
    expect(err).toBeInstanceOf(EventLoopError); // one error hierarchy with core and the hub
    expect((err as GreenletError).code).toBe('ERR_GREENLET_NO_RUN');
    expect(g.started).toBe(false);
  });

  it('raises ERR_GREENLET_NO_RUN in the caller when throwing into a greenlet with no run', () => {
    const err = thrownBy(() => greenlet().throw(new SomeError()));
    expect((err as GreenletError).code).toBe('ERR_GREENLET_NO_RUN');
  });

  it('raises ERR_GREENLET_NO_RUN inside the greenlet that switched to a greenlet with no run', () => {
    const caught: string[] = [];
    const g = greenlet(function* () {
      try {
        yield* greenlet().switch();
      } catch (err) {
        caught.push((err as GreenletError).code);
      }
      return 'went on';
    });
    expect(g.switch()).toBe('went on');
    expect(caught).toEqual(['ERR_GREENLET_NO_RUN']);
  });

  it('raises ERR_GREENLET_NO_RUN in the grandparent when a greenlet finishes into a parent with no run', () => {
    const noRun = greenlet();
    const child = greenlet(function* () {
      return 'lost';
    }, noRun);
    const err = thrownBy(() => child.switch());
    expect((err as GreenletError).code).toBe('ERR_GREENLET_NO_RUN');
    expect(child.dead).toBe(true);
  });

  it('uses a subclass\'s run method when the constructor is given none', () => {
    class Doubler extends Greenlet {
      override *run(x: number) {
        return x * 2;
      }
    }
    expect(new Doubler().switch(21)).toBe(42);
  });

  it('accepts a plain function as run, which runs to completion and returns to the parent', () => {
    const g = greenlet((a: number, b: number) => a + b);
    expect(g.switch(2, 3)).toBe(5);
    expect(g.dead).toBe(true);
  });

  it('rejects a run that is not a function with ERR_INVALID_ARG, a TypeError', () => {
    const err = thrownBy(() => new Greenlet(42 as never));
    expect(err).toBeInstanceOf(TypeError);
    expect((err as GreenletError).code).toBe('ERR_INVALID_ARG');
  });
});

describe('exceptions (test_greenlet.py)', () => {
  /** python's fmain: wait in a switch to the parent, record what interrupts it, then fail. */
  function* fmain(seen: unknown[]) {
    try {
      yield* toParent();
    } catch (err) {
      seen.push((err as Error).constructor);
      throw err;
    }
    throw new SomeError();
  }

  it('sends an uncaught exception to the parent, and on up the chain while it is not caught', () => {
    const seen: unknown[] = [];
    const g1 = greenlet(fmain);
    const g2 = greenlet(fmain);
    g1.switch(seen);
    g2.switch(seen);
    g2.parent = g1;
    expect(seen).toEqual([]);
    // g2 raises SomeError into g1, whose handler records it and re-raises it into main.
    expect(thrownBy(() => g2.switch())).toBeInstanceOf(SomeError);
    expect(seen).toEqual([SomeError]);
    expect([g1.dead, g2.dead]).toEqual([true, true]);
  });

  it('raises an exception sent through a dying child at the switch its parent is suspended in', () => {
    const seen: unknown[] = [];
    const g1 = greenlet(fmain);
    g1.switch(seen);
    const crasher = greenlet(function* (err: unknown) {
      throw err;
    }, g1);
    expect(thrownBy(() => crasher.switch(new RangeError('sent')))).toBeInstanceOf(RangeError);
    expect(seen).toEqual([RangeError]);
  });

  it('delivers a GreenletExit raised in a greenlet to its parent as a value', () => {
    const exit = new GreenletExit('done here');
    const g = greenlet(function* () {
      throw exit;
    });
    expect(g.switch()).toBe(exit);
    expect(g.dead).toBe(true);
  });

  it('passes a switch to a dead greenlet on to its nearest live ancestor', () => {
    const seen: unknown[] = [];
    const g1 = greenlet(fmain);
    const g2 = greenlet(fmain);
    g1.switch(seen);
    g2.switch(seen);
    g2.parent = g1;
    thrownBy(() => g2.switch());
    // Both are dead now, so the switch lands in main at once.
    expect(g2.switch()).toBeUndefined();
    expect(g2.switch(25)).toBe(25);
    const parent = greenlet(function* () {
      let got = yield* toParent('parent ready');
      for (;;) got = yield* toParent(`parent got ${String(got)}`);
    });
    expect(parent.switch()).toBe('parent ready');
    const child = greenlet(function* () {
      return 'child done';
    }, parent);
    expect(child.switch()).toBe('parent got child done');
    expect(child.switch('to a dead child')).toBe('parent got to a dead child');
  });

  it('starts an unstarted parent with its finished child\'s return value', () => {
    const parentNeverStarted = greenlet(function* (x: number) {
      return [x, 24];
    });
    const child = greenlet(function* () {
      return 42;
    }, parentNeverStarted);
    expect(child.switch()).toEqual([42, 24]);
    expect(parentNeverStarted.dead).toBe(true);
  });

  it('starts the unstarted parent when switching to a dead greenlet that was re-parented to it', () => {
    const seen: number[] = [];
    const parentNeverStarted = greenlet(() => {
      seen.push(24);
    });
    const child = greenlet(() => {
      seen.push(42);
    });
    child.switch();
    expect(seen).toEqual([42]);
    child.parent = parentNeverStarted;
    expect(child.switch()).toBeUndefined();
    expect(seen).toEqual([42, 24]);
  });
});

describe('throw (test_throw.py)', () => {
  it('raises the thrown error at the switch the greenlet is suspended in', () => {
    const g = greenlet(function* () {
      try {
        yield* toParent('ok');
      } catch (err) {
        if (err instanceof RangeError && err.message === 'ciao') {
          yield* toParent('caught');
          return;
        }
      }
      yield* toParent('fail');
    });
    expect(g.switch()).toBe('ok');
    expect(g.throw(new RangeError('ciao'))).toBe('caught');
  });

  it('kills with GreenletExit when thrown no argument, the caller receiving the GreenletExit', () => {
    const g = greenlet(function* () {
      yield* toParent('ok');
      yield* toParent('fail');
    });
    expect(g.switch()).toBe('ok');
    const res: unknown = g.throw();
    expect(res).toBeInstanceOf(GreenletExit);
    expect(res).toBeInstanceOf(EventLoopError);
    expect((res as GreenletExit).code).toBe('ERR_GREENLET_EXIT');
    expect(g.dead).toBe(true);
  });

  it('returns a GreenletExit thrown into an already dead greenlet as a value', () => {
    const g = greenlet(() => 'finished');
    g.switch();
    expect(g.throw()).toBeInstanceOf(GreenletExit);
  });

  it('raises another error thrown into a dead greenlet in its nearest live ancestor', () => {
    const g = greenlet(() => 'finished');
    g.switch();
    expect(thrownBy(() => g.throw(new SomeError()))).toBeInstanceOf(SomeError);
  });

  it('lets a killed greenlet catch GreenletExit and go on switching', () => {
    const log: string[] = [];
    const g = greenlet(function* () {
      try {
        yield* toParent('waiting');
      } catch (err) {
        log.push(err instanceof GreenletExit ? 'caught exit' : 'caught other');
        yield* toParent('resurrected');
      }
      return 'finally done';
    });
    g.switch();
    expect(g.throw()).toBe('resurrected');
    expect(g.switch()).toBe('finally done');
    expect(log).toEqual(['caught exit']);
  });

  it('kills an unstarted greenlet without running it, starting and killing unstarted parents up the chain', () => {
    const ran: string[] = [];
    const main = getcurrent();
    const g1 = greenlet(function* () {
      ran.push('f1');
      try {
        yield* main.switch('f1 ready to catch');
      } catch (err) {
        if (err instanceof RangeError) return 'caught';
        throw err;
      }
      return 'normal exit';
    });
    const g2 = greenlet(function* () {
      ran.push('f2');
      yield* main.switch('from f2');
    }, g1);
    expect(thrownBy(() => g2.throw(new RangeError()))).toBeInstanceOf(RangeError);
    expect([g1.dead, g2.dead]).toEqual([true, true]);
    expect(ran).toEqual([]);
  });

  it('sends an unstarted greenlet\'s throw to its original parent, which may catch it', () => {
    const main = getcurrent();
    function* f1() {
      try {
        yield* main.switch('f1 ready to catch');
      } catch (err) {
        if (err instanceof RangeError) return 'caught';
        throw err;
      }
      return 'normal exit';
    }
    function* f2() {
      yield* main.switch('from f2');
    }
    let g1 = greenlet(f1);
    let g2 = greenlet(f2, g1);
    expect(g1.switch()).toBe('f1 ready to catch');
    expect(g2.throw(new RangeError())).toBe('caught');
    expect([g1.dead, g2.dead]).toEqual([true, true]);

    g1 = greenlet(f1);
    g2 = greenlet(f2, g1);
    expect(g1.switch()).toBe('f1 ready to catch');
    expect(g2.switch()).toBe('from f2');
    expect(g2.throw(new RangeError())).toBe('caught');
    expect([g1.dead, g2.dead]).toEqual([true, true]);
  });

  it('throws synchronously when main throws to itself', () => {
    const err = new SomeError();
    expect(thrownBy(() => getcurrent().throw(err))).toBe(err);
  });

  it('raises a throw from a greenlet to main in main\'s pending switch', () => {
    const main = getcurrent();
    const g = greenlet(function* () {
      yield* main.throw(new SomeError('from a greenlet'));
    });
    const err = thrownBy(() => g.switch());
    expect(err).toBeInstanceOf(SomeError);
    expect(g.dead).toBe(false);
  });
});

describe('parent (test_greenlet.py)', () => {
  it('defaults the parent to the greenlet that created it, for undefined and null alike', () => {
    const main = getcurrent();
    expect(greenlet().parent).toBe(main);
    expect(greenlet(null, null).parent).toBe(main);
    const g = greenlet(function* (this: Greenlet) {
      return greenlet().parent === this;
    });
    expect(g.switch()).toBe(true);
  });

  it('refuses to set the main greenlet\'s parent with ERR_GREENLET_MAIN_PARENT', () => {
    const main = getcurrent();
    const err = thrownBy(() => {
      main.parent = greenlet();
    });
    expect((err as GreenletError).code).toBe('ERR_GREENLET_MAIN_PARENT');
    expect(main.parent).toBeNull();
  });

  it('refuses a parent that is not a greenlet with ERR_INVALID_ARG (a TypeError), started or not', () => {
    const g = greenlet(function* () {
      yield* toParent();
    });
    const codes: unknown[] = [];
    const check = () => {
      for (const bad of [null, 1, {}, '42']) {
        codes.push(
          (
            thrownBy(() => {
              g.parent = bad as never;
            }) as GreenletError
          ).code,
        );
      }
    };
    check();
    g.switch();
    check();
    g.switch();
    expect(codes).toEqual(Array(8).fill('ERR_INVALID_ARG'));
    expect(thrownBy(() => greenlet(null, {} as never))).toBeInstanceOf(TypeError);
    expect((thrownBy(() => greenlet(null, {} as never)) as GreenletError).code).toBe('ERR_INVALID_ARG');
  });

  it('refuses to make a greenlet its own parent with ERR_GREENLET_PARENT_CYCLE', () => {
    const g = greenlet(() => undefined);
    const err = thrownBy(() => {
      g.parent = g;
    });
    expect((err as GreenletError).code).toBe('ERR_GREENLET_PARENT_CYCLE');
    expect(g.parent).toBe(getcurrent());
  });

  it('refuses a deeper parent cycle with ERR_GREENLET_PARENT_CYCLE', () => {
    const g1 = greenlet(() => undefined);
    const g2 = greenlet(() => undefined);
    const g3 = greenlet(() => undefined);
    g1.parent = g2;
    g2.parent = g3;
    const err = thrownBy(() => {
      g3.parent = g1;
    });
    expect((err as GreenletError).code).toBe('ERR_GREENLET_PARENT_CYCLE');
  });

  it('sends a re-parented greenlet\'s result to its new parent', () => {
    const log: unknown[] = [];
    const collector = greenlet(function* () {
      for (;;) log.push(yield* toParent());
    });
    collector.switch();
    const g = greenlet(function* () {
      yield* toParent();
      return 'result';
    });
    g.switch();
    g.parent = collector;
    expect(g.switch()).toBeUndefined();
    expect(log).toEqual(['result']);
  });
});

describe('the one rule: switch with yield*', () => {
  it('switches from a nested generator frame when every frame is called with yield*', () => {
    function* readValue(): Generator<unknown, unknown, unknown> {
      return yield* toParent('need a value');
    }
    function* middle() {
      const v = yield* readValue();
      return `middle got ${String(v)}`;
    }
    const g = greenlet(function* () {
      return yield* middle();
    });
    expect(g.switch()).toBe('need a value');
    expect(g.switch(7)).toBe('middle got 7');
  });

  it('throws ERR_GREENLET_SWITCH_NOT_YIELDED at the next switch after one not yield*-ed', () => {
    const main = getcurrent();
    const g = greenlet(function* () {
      void main.switch('forgotten');
      try {
        yield* main.switch('second');
      } catch (err) {
        return (err as GreenletError).code;
      }
      return 'no error';
    });
    expect(g.switch()).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
  });

  it('fails a greenlet that returns after a switch not yield*-ed with ERR_GREENLET_SWITCH_NOT_YIELDED in the parent', () => {
    const main = getcurrent();
    const g = greenlet(function* () {
      void main.switch('forgotten');
      return 'returned';
    });
    expect((thrownBy(() => g.switch()) as GreenletError).code).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
    expect(g.dead).toBe(true);
  });

  it('fails a plain-function run that switches with ERR_GREENLET_SWITCH_NOT_YIELDED in the parent', () => {
    const main = getcurrent();
    const g = greenlet(() => {
      main.switch('from a plain function');
      return 'returned';
    });
    expect((thrownBy(() => g.switch()) as GreenletError).code).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
  });

  it('throws ERR_GREENLET_BARE_YIELD at a yield of a switch written without the star', () => {
    const main = getcurrent();
    const g = greenlet(function* () {
      try {
        yield main.switch('wrong');
      } catch (err) {
        return [(err as GreenletError).code, (err as GreenletError).message];
      }
      return 'no error';
    });
    const [code, message] = g.switch() as [string, string];
    expect(code).toBe('ERR_GREENLET_BARE_YIELD');
    expect(message).toContain('yield*');
  });

  it('throws ERR_GREENLET_BARE_YIELD at a yield of a plain value inside a greenlet', () => {
    const g = greenlet(function* () {
      try {
        yield 5;
      } catch (err) {
        return (err as GreenletError).code;
      }
      return 'no error';
    });
    expect(g.switch()).toBe('ERR_GREENLET_BARE_YIELD');
  });

  it('reports a switch made by a callback the greenlet calls synchronously with ERR_GREENLET_SWITCH_NOT_YIELDED', () => {
    const main = getcurrent();
    const listeners: Array<(key: string) => void> = [
      (key) => {
        main.switch(key);
      },
    ];
    const g = greenlet(function* () {
      for (const listener of listeners) listener('k'); // like emitter.emit('keydown', 'k')
      yield* main.switch('after emit');
    });
    expect((thrownBy(() => g.switch()) as GreenletError).code).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
  });

  it('reports a switch inside a generator iterated with for...of with ERR_GREENLET_SWITCH_NOT_YIELDED', () => {
    const main = getcurrent();
    function* helper() {
      yield* main.switch('from helper');
    }
    const g = greenlet(function* () {
      for (const item of helper()) void item;
      return 'returned';
    });
    expect((thrownBy(() => g.switch()) as GreenletError).code).toBe('ERR_GREENLET_SWITCH_NOT_YIELDED');
  });

  it('fails with ERR_GREENLET_BARE_YIELD in the parent when the greenlet does not catch it', () => {
    const g = greenlet(function* () {
      yield 'not a switch';
    });
    const err = thrownBy(() => g.switch());
    expect((err as GreenletError).code).toBe('ERR_GREENLET_BARE_YIELD');
    expect(g.dead).toBe(true);
  });
});

describe('stack and scale', () => {
  it('performs a million switches between two greenlets without growing the stack', () => {
    const half = 500_000;
    let count = 0;
    const a = greenlet(function* () {
      for (let i = 0; i < half; i++) count = ((yield* b.switch(count)) as number) + 1;
      return count;
    });
    const b = greenlet(function* () {
      let n = (yield* toParent()) as number;
      for (;;) n = (yield* a.switch(n + 1)) as number;
    });
    b.switch();
    b.parent = a;
    expect(a.switch()).toBe(1_000_000);
  });

  it('unwinds a chain of 100,000 greenlets, each started by its parent, without overflow', () => {
    const depth = 100_000;
    function* link(this: Greenlet, n: number): Generator<unknown, unknown, unknown> {
      if (n === 0) return 0;
      const child = greenlet(link);
      return ((yield* child.switch(n - 1)) as number) + 1;
    }
    expect(greenlet(link).switch(depth)).toBe(depth);
  });
});

describe('toString (test_greenlet.py TestRepr)', () => {
  it('describes main as current, active, started and main while it runs', () => {
    expect(String(getcurrent())).toBe('Greenlet<current active started main>');
  });

  it('describes main as suspended from inside another greenlet', () => {
    const main = getcurrent();
    expect(greenlet(() => String(main)).switch()).toBe('Greenlet<suspended active started main>');
  });

  it('describes a greenlet before its start as pending and after its end as dead', () => {
    const g = greenlet(() => undefined);
    const before = String(g);
    g.switch();
    expect([before, String(g)]).toEqual(['Greenlet<pending>', 'Greenlet<dead>']);
  });
});

describe('getmain', () => {
  it('returns the main greenlet from main code and from inside a greenlet', () => {
    const main = getcurrent();
    expect(getmain()).toBe(main);
    let inside: unknown;
    const g = greenlet(function* () {
      inside = getmain();
      yield* main.switch();
    });
    g.switch();
    expect(inside).toBe(main);
    expect(getmain().parent).toBeNull();
    expect(getmain().dead).toBe(false);
    g.throw();
  });
});
