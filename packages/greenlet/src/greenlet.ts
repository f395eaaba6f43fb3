/**
 * Greenlets on generators: python-greenlet's switch/parent semantics with a
 * trampoline in place of stack switching.
 *
 * The one rule of the layer: JavaScript generators are stackless, so every frame
 * between a greenlet's `run` and a switch is a generator function, called with
 * `yield*`, and the switch itself is `yield* g.switch(...)`. Code outside every
 * greenlet (the main greenlet) calls `g.switch(...)` as a plain synchronous function.
 */
import { InvalidArgumentError } from '@loop/core';
import { GreenletError, GreenletExit } from './errors.js';
import { TRACE_OK, callTracer, traceState } from './trace.js';

/**
 * The function a greenlet runs: normally a generator function, whose body switches
 * with `yield* other.switch(...)`. Its arguments are the values of the first switch
 * into the greenlet; its return value goes to the parent. A plain (non-generator)
 * function is accepted too: it runs to completion in one go and cannot switch.
 */
export type RunFunction = (this: Greenlet, ...args: never[]) => unknown;

/**
 * Per-greenlet context, contextvars' model: a map from keys (usually
 * {@link ContextVar}s) to values. A new greenlet's context is `undefined` (empty).
 */
export type Context = Map<unknown, unknown>;

/**
 * What a switch request yields to the trampoline. Greenlet generators yield only this
 * (through `yield*`); anything else they yield is the wrong-place error.
 */
const SWITCH_TOKEN: unique symbol = Symbol('greenlet.switch');

/** The type of values a greenlet's generator yields, through `yield* g.switch()`. */
export type SwitchToken = typeof SWITCH_TOKEN;

// Greenlet states. `started` is state !== PENDING, `dead` is state === DEAD.
const PENDING = 0;
const ACTIVE = 1;
const DEAD = 2;

// What a transfer carries: a value to deliver, or an exception to raise.
const VALUE = 0;
const ERROR = 1;

/*
 * The pending switch request: `switch()`/`throw()` inside a greenlet fill these and
 * return the shared REQUEST iterable; the greenlet then yields SWITCH_TOKEN (via
 * `yield*`) and the trampoline reads them. Module registers, not an object per
 * switch, because only one greenlet runs at a time and the hot path must not allocate.
 */
let reqTarget: Greenlet | null = null;
let reqKind = VALUE;
let reqValue: unknown = undefined;
let reqArgc = 0;
/** Set by switch(), cleared when REQUEST yields: still set means "called without yield*". */
let reqArmed = false;

/** The greenlet whose code is running. Reassigned only by the trampoline. */
let current: Greenlet;
/** The greenlet of code outside every greenlet; never dead, has no parent. */
let main: Greenlet;

/** Shared iterator results: reused on every switch so the hot path allocates nothing. */
const YIELDED: IteratorYieldResult<SwitchToken> = { value: SWITCH_TOKEN, done: false };
const RESUMED: IteratorReturnResult<unknown> = { value: undefined, done: true };

/**
 * The iterable every in-greenlet `switch()` returns. `yield*` calls `next()` twice on
 * it: first (synchronously, inside `switch`'s caller) to yield the request up to the
 * trampoline, then (when the trampoline resumes this greenlet with `gen.next(v)`) to
 * finish with `v`, which becomes the value of the `yield*` expression. `throw(e)` is
 * called when the trampoline resumes with `gen.throw(e)`: rethrowing makes `e` appear
 * at the `yield*`.
 */
const REQUEST: Iterator<SwitchToken, unknown, unknown> & Iterable<SwitchToken, unknown, unknown> = {
  [Symbol.iterator]() {
    return this;
  },
  next(value?: unknown): IteratorResult<SwitchToken, unknown> {
    if (reqArmed) {
      reqArmed = false;
      return YIELDED;
    }
    RESUMED.value = value;
    return RESUMED;
  },
  throw(err?: unknown): IteratorResult<SwitchToken, unknown> {
    throw err;
  },
  return(value?: unknown): IteratorResult<SwitchToken, unknown> {
    // Reached only when user code calls `.return()` on a suspended greenlet's generator
    // by hand; a fresh object keeps the shared RESUMED out of user hands.
    return { value, done: true };
  },
};

function clearRequest(): void {
  reqTarget = null;
  reqValue = undefined;
  reqArmed = false;
}

function notYieldedError(): GreenletError {
  return new GreenletError(
    'ERR_GREENLET_SWITCH_NOT_YIELDED',
    'switch() or throw() was called inside a greenlet without yield*: write `yield* g.switch(...)`, ' +
      'and make every function between the greenlet\'s run and the switch a generator called with yield*',
  );
}

function wrongYieldError(yielded: unknown): GreenletError {
  if (yielded === REQUEST) {
    return new GreenletError(
      'ERR_GREENLET_BARE_YIELD',
      'a greenlet yielded a switch request with `yield`: write `yield* g.switch(...)` (with the star)',
    );
  }
  if (reqArmed) return notYieldedError();
  return new GreenletError(
    'ERR_GREENLET_BARE_YIELD',
    'a greenlet yielded a value of its own: inside a greenlet, yield only through `yield* g.switch(...)`',
  );
}

function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Generator).next === 'function' &&
    typeof (value as Generator).throw === 'function'
  );
}

/**
 * A greenlet: a unit of execution that runs `run` and passes control explicitly with
 * `switch` and `throw`, following python-greenlet. Every greenlet but the main one
 * has a parent, which receives its return value or exception when it finishes.
 *
 * Inside a greenlet, a switch is `yield* g.switch(...)` and every function between
 * `run` and the switch is a generator called with `yield*` (the one rule). From
 * the main greenlet, `g.switch(...)` is an ordinary synchronous call.
 *
 * @example
 * ```ts
 * const g = new Greenlet(function* (a: number) {
 *   const b = (yield* this.parent!.switch(a + 1)) as number; // back to main with 2
 *   return a + b;                                             // 1 + 9: main gets 10
 * });
 * g.switch(1); // 2
 * g.switch(9); // 10
 * ```
 */
export class Greenlet {
  /**
   * The function the greenlet runs, given by the constructor or defined as a method by
   * a subclass. Assignable until the greenlet starts; a started greenlet has no `run`
   * (it is set to `undefined` so the closure can be collected).
   */
  run?(...args: never[]): unknown;

  #parent: Greenlet | null;
  #state: number = PENDING;
  #gen: Generator<unknown, unknown, unknown> | null = null;
  #context: Context | undefined = undefined;

  /**
   * Creates a greenlet that is not started yet; the first `switch` or `throw` starts it.
   *
   * @param run - what the greenlet runs; may be omitted when a subclass defines `run`
   * @param parent - receives the greenlet's result; `undefined` or `null` means
   *   the current greenlet
   * @throws InvalidArgumentError (a `TypeError`, code `ERR_INVALID_ARG`) if `run` is neither a
   *   function nor omitted, or `parent` is not a greenlet
   */
  constructor(run?: RunFunction | null, parent?: Greenlet | null) {
    if (run !== undefined && run !== null) {
      if (typeof run !== 'function') {
        throw new InvalidArgumentError(`run must be a function, got ${typeof run}`);
      }
      this.run = run;
    }
    if (parent !== undefined && parent !== null && !(parent instanceof Greenlet)) {
      throw new InvalidArgumentError('parent must be a greenlet');
    }
    // `current` is undefined only while the module creates the main greenlet.
    this.#parent = parent ?? current ?? null;
  }

  /**
   * The greenlet that receives this one's return value or exception; `null` only for
   * the main greenlet. Setting it re-parents the greenlet, started or not.
   *
   * @throws InvalidArgumentError on set if the value is not a
   *   greenlet, `ERR_GREENLET_PARENT_CYCLE` if it would make this greenlet its own
   *   ancestor, `ERR_GREENLET_MAIN_PARENT` on the main greenlet
   */
  get parent(): Greenlet | null {
    return this.#parent;
  }

  set parent(parent: Greenlet) {
    if (this === main) {
      throw new GreenletError('ERR_GREENLET_MAIN_PARENT', 'the main greenlet has no parent and cannot be given one');
    }
    if (!(parent instanceof Greenlet)) {
      throw new InvalidArgumentError('parent must be a greenlet');
    }
    for (let p: Greenlet | null = parent; p !== null; p = p.#parent) {
      if (p === this) throw new GreenletError('ERR_GREENLET_PARENT_CYCLE', 'cyclic parent chain');
    }
    this.#parent = parent;
  }

  /** True once the greenlet has finished (returned or raised); the main greenlet never dies. */
  get dead(): boolean {
    return this.#state === DEAD;
  }

  /** True once the greenlet has been switched into for the first time (main: always). */
  get started(): boolean {
    return this.#state !== PENDING;
  }

  /** True while the greenlet is started and not dead: running or suspended (python's `bool(g)`). */
  get active(): boolean {
    return this.#state === ACTIVE;
  }

  /**
   * This greenlet's context (see {@link ContextVar}); `undefined` means empty, which is
   * how a new greenlet starts: nothing is inherited from the creator. Assign a map to
   * share or copy one (`g.context = copyContext()`), `undefined` to clear it. Readable
   * and assignable whether the greenlet is running, suspended, pending or dead.
   */
  get context(): Context | undefined {
    return this.#context;
  }

  set context(context: Context | undefined) {
    if (context !== undefined && !(context instanceof Map)) {
      throw new InvalidArgumentError('context must be a Map or undefined');
    }
    this.#context = context;
  }

  /**
   * Switches to this greenlet, passing it a value: the arguments of `run` if it has
   * not started, else the value of the `switch` it is suspended in, packed as none →
   * `undefined`, one → itself, several → an array. Returns what is later switched
   * back to the caller (packed the same way), or throws what is thrown to it.
   *
   * From the main greenlet this is a synchronous call that runs greenlets until one
   * switches back to main (or one whose parent is main finishes). Inside a greenlet
   * it must be `yield*`-ed: `const v = yield* g.switch(x)`.
   *
   * A dead target passes the switch to its nearest live ancestor; an unstarted one is
   * started. The result type is `any` because one greenlet may be sent anything:
   * state what you expect with a cast, `const line = (yield* g.switch()) as string`.
   *
   * @throws GreenletError `ERR_GREENLET_NO_RUN` (raised in the caller) if the greenlet
   *   to start has no `run`; `ERR_GREENLET_SWITCH_NOT_YIELDED` if an earlier switch in
   *   this greenlet was not `yield*`-ed; `ERR_GREENLET_SWITCH_IN_TRACER` from a tracer.
   *   Otherwise, whatever exception is thrown to the caller.
   *
   * @example
   * ```ts
   * const echo = greenlet(function* (first: string) {
   *   let line = first;
   *   for (;;) line = (yield* getcurrent().parent!.switch(`echo: ${line}`)) as string;
   * });
   * echo.switch('a'); // 'echo: a'
   * echo.switch('b'); // 'echo: b'
   * ```
   */
  // The result is dynamically typed on purpose: the same call is the value itself in
  // main code and an iterable for `yield*` in a greenlet, which no static type can be.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  switch(...args: unknown[]): any;
  // Implemented over `arguments`, not a rest parameter: V8 allocates a rest array on
  // every call (measured: about one scavenge per 18,000 switches), while reading
  // `arguments.length` and `arguments[0]` in optimized code allocates nothing.
  switch(): unknown {
    if (traceState.busy) throw inTracerError();
    const argc = arguments.length;
    // The packing rule: none → undefined, one → itself, several → an array of them.
    // eslint-disable-next-line prefer-rest-params -- see above
    const value: unknown = argc === 0 ? undefined : argc === 1 ? arguments[0] : Array.prototype.slice.call(arguments);
    if (current !== main) return request(this, VALUE, value, argc);
    // Main switching to itself: nothing to run, but a tracer still sees the switch.
    if (this === main && traceState.fn === null) return value;
    return Greenlet.#drive(this, VALUE, value, argc);
  }

  /**
   * Raises `err` in this greenlet at the switch it is suspended in (an unstarted
   * greenlet dies with it at once, without running), and otherwise behaves like
   * {@link Greenlet.switch}: returns what is switched back to the caller. With no
   * argument (or `undefined`), throws a new {@link GreenletExit}: a kill.
   *
   * An uncaught exception kills the greenlet and goes on to its parent, except a
   * `GreenletExit`, which reaches the parent as a value. Throwing a `GreenletExit` into
   * an already dead greenlet therefore returns it to the caller's side as a value.
   *
   * @throws whatever ends up thrown to the caller, and the errors of {@link Greenlet.switch}
   *
   * @example
   * ```ts
   * const killed = worker.throw();        // from main
   * killed instanceof GreenletExit;       // true if worker did not catch it
   * yield* worker.throw(new Error('x')); // from another greenlet
   * ```
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as switch's result
  throw(err?: unknown): any {
    if (traceState.busy) throw inTracerError();
    const error: unknown = err === undefined ? new GreenletExit() : err;
    // python-greenlet: throwing into a dead greenlet turns GreenletExit into a value,
    // so killing something already dead is not an error.
    const kind = this.#state === DEAD && error instanceof GreenletExit ? VALUE : ERROR;
    if (current !== main) return request(this, kind, error, 1);
    if (this === main && traceState.fn === null) throw error;
    return Greenlet.#drive(this, kind, error, 1);
  }

  /** Describes the greenlet's state, like python-greenlet's repr: `Greenlet<current active started main>`. */
  toString(): string {
    const parts: string[] = [];
    if (this.#state === DEAD) {
      parts.push('dead');
    } else if (this.#state === PENDING) {
      parts.push('pending');
    } else {
      parts.push(this === current ? 'current' : 'suspended', 'active', 'started');
    }
    if (this === main) parts.push('main');
    return `${this.constructor.name}<${parts.join(' ')}>`;
  }

  /**
   * Runs the trampoline from the main greenlet until control comes back to main.
   * A loop, not recursion: a million switches use a constant amount of JS stack.
   */
  static #drive(target: Greenlet, kind: number, value: unknown, argc: number): unknown {
    let origin: Greenlet = main;
    // False while the transfer is an error the trampoline raises in place of a switch
    // that did not happen (no run, wrong yield): python-greenlet traces only switches.
    let traced = true;
    try {
      for (;;) {
        // A dead target hands the transfer to its nearest live ancestor (python's rule);
        // main never dies, so this stops.
        while (target.#state === DEAD) target = target.#parent as Greenlet;

        if (target.#state === PENDING && typeof target.run !== 'function') {
          // The switch fails: a live origin gets the error at its switch; a dying origin
          // has no switch left to fail, so the error continues up from the target.
          kind = ERROR;
          value = new GreenletError('ERR_GREENLET_NO_RUN', `cannot start ${String(target)}: it has no run`);
          argc = 1;
          target = origin.#state === DEAD ? (target.#parent as Greenlet) : origin;
          traced = origin.#state === DEAD;
          continue;
        }

        current = target;
        const tracer = traceState.fn;
        if (tracer !== null && traced) {
          const failure = callTracer(tracer, kind === ERROR, origin, target);
          if (failure !== TRACE_OK) {
            kind = ERROR;
            value = failure;
            argc = 1;
          }
        }

        if (target === main) {
          if (kind === ERROR) throw value;
          return value;
        }

        let done: boolean | undefined;
        let out: unknown;
        try {
          const gen = target.#gen;
          if (gen !== null) {
            const res = kind === ERROR ? gen.throw(value) : gen.next(value);
            done = res.done;
            out = res.value;
            RESUMED.value = undefined; // do not keep the last value alive
          } else {
            target.#state = ACTIVE;
            // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the greenlet as this
            const run = target.run as (...args: unknown[]) => unknown;
            target.run = undefined;
            // Started with a pending exception: python-greenlet never calls run then.
            if (kind === ERROR) throw value;
            const result =
              argc === 0 ? run.call(target) : argc === 1 ? run.call(target, value) : run.apply(target, value as unknown[]);
            if (isGenerator(result)) {
              target.#gen = result;
              const res = result.next();
              done = res.done;
              out = res.value;
            } else {
              done = true;
              out = result;
            }
          }
        } catch (err) {
          target.#state = DEAD;
          target.#gen = null;
          clearRequest();
          origin = target;
          target = target.#parent as Greenlet;
          // A kill is not a failure: the parent receives the GreenletExit as a value.
          kind = err instanceof GreenletExit ? VALUE : ERROR;
          value = err;
          argc = 1;
          traced = true;
          continue;
        }

        if (done !== true) {
          if (out === SWITCH_TOKEN && reqTarget !== null && !reqArmed) {
            origin = target;
            target = reqTarget;
            kind = reqKind;
            value = reqValue;
            argc = reqArgc;
            reqTarget = null;
            reqValue = undefined;
            traced = true;
            continue;
          }
          // Yielded from the wrong place: raise the error at that very yield, in the
          // greenlet that broke the rule, so its stack trace points at the mistake.
          kind = ERROR;
          value = wrongYieldError(out);
          argc = 1;
          clearRequest();
          origin = target;
          traced = false;
          continue;
        }

        target.#state = DEAD;
        target.#gen = null;
        origin = target;
        target = target.#parent as Greenlet;
        argc = 1;
        traced = true;
        if (reqTarget !== null) {
          // It armed a switch and returned without yielding it: the switch would be lost.
          kind = ERROR;
          value = notYieldedError();
          clearRequest();
        } else {
          kind = VALUE;
          value = out;
        }
      }
    } finally {
      // Every way out of the trampoline is back in main code.
      current = main;
    }
  }

  static {
    main = new Greenlet();
    main.#state = ACTIVE;
    current = main;
  }
}

function inTracerError(): GreenletError {
  return new GreenletError(
    'ERR_GREENLET_SWITCH_IN_TRACER',
    'a trace function cannot switch: tracers observe switches, they do not make them',
  );
}

function request(target: Greenlet, kind: number, value: unknown, argc: number): Iterable<SwitchToken, unknown, unknown> {
  if (reqTarget !== null) {
    clearRequest();
    throw notYieldedError();
  }
  reqTarget = target;
  reqKind = kind;
  reqValue = value;
  reqArgc = argc;
  reqArmed = true;
  return REQUEST;
}

/**
 * Creates a greenlet: shorthand for `new Greenlet(run, parent)`.
 *
 * @param run - the generator function the greenlet runs
 * @param parent - receives its result; defaults to the current greenlet
 * @throws GreenletError as the {@link Greenlet} constructor
 *
 * @example
 * ```ts
 * const gr1 = greenlet(function* () { log.push(12); yield* gr2.switch(); log.push(34); });
 * const gr2 = greenlet(function* () { log.push(56); yield* gr1.switch(); log.push(78); });
 * gr1.switch(); // log: 12 56 34
 * ```
 */
export function greenlet(run?: RunFunction | null, parent?: Greenlet | null): Greenlet {
  return new Greenlet(run, parent);
}

/**
 * Returns the greenlet whose code is running: the main greenlet outside every greenlet.
 * It is module state (python-greenlet keeps it per thread; here, per module instance,
 * so each worker thread has its own main). Whenever main code runs it is the main
 * greenlet again: the trampoline restores it on every exit, normal or not.
 *
 * @example
 * ```ts
 * const value = yield* getcurrent().parent!.switch(); // wait for the next value
 * ```
 */
export function getcurrent(): Greenlet {
  return current;
}

/**
 * Returns the main greenlet: the greenlet of code outside every greenlet, the root of every
 * parent chain. It never dies. A hub uses it as the parent of the greenlets it spawns, so that a
 * greenlet's death resumes the hub and never an unrelated waiter.
 *
 * @example
 * ```ts
 * const worker = greenlet(function* () { return 1; }, getmain());
 * ```
 */
export function getmain(): Greenlet {
  return main;
}
