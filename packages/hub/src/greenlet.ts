import { Greenlet as RawGreenlet, GreenletExit, getmain } from '@loop/greenlet';
import type { SwitchToken } from '@loop/greenlet';
import { HubError, InvalidArgumentError, checkFunction, checkOptions, checkTimeout } from './errors.js';
import type { Hub, TimerSlot } from './hub.js';
import { Timeout } from './timeout.js';
import { NOTHING, TIMED_OUT, currentGreenlet, suspendFor, type Blocking } from './waiting.js';

/** What a greenlet runs: a generator function (it may block), or a plain function (it may not). */
// `any[]`, not `never[]`: with `never[]` TypeScript fails to infer a generator function's
// parameters for `...args: Parameters<F>` (plain functions infer either way).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type GreenletBody = (...args: any[]) => unknown;

/** What a greenlet running `F` ends with: its generator's return value, or the function's result. */
export type GreenletResult<F extends GreenletBody> =
  ReturnType<F> extends Generator<unknown, infer T, unknown> ? T : ReturnType<F> extends Iterator<unknown, infer T, unknown> ? T : ReturnType<F>;

/** A callback run once a greenlet has finished; see {@link Greenlet.link}. */
export type LinkCallback<T> = (greenlet: Greenlet<T>) => void;

/** Options of {@link Greenlet.kill} and `killall`. */
export interface KillOptions {
  /** Wait until the greenlet is dead (the default), which only a greenlet can do. */
  block?: boolean;
  /** With `block`, wait at most this many ms. */
  timeout?: number;
}

/** Options of {@link Greenlet.get}. */
export interface GetOptions {
  /** Wait for the result (the default); otherwise throw a {@link Timeout} if there is none yet. */
  block?: boolean;
  /** Wait at most this many ms, then throw a {@link Timeout}. */
  timeout?: number;
}

// States (the low bits of #flags). A greenlet is NEW until start(), SCHEDULED until it first
// runs, RUNNING until it ends.
const NEW = 0;
const SCHEDULED = 1;
const RUNNING = 2;
const SUCCEEDED = 3;
const FAILED = 4;
const STATE = 7;
// Flags: a link notification is queued; a failure is not reported (hub.run's main greenlet).
const NOTIFYING = 8;
const QUIET = 16;

/** What few greenlets have: a name given or asked for, the timer of spawnLater. */
interface Extra {
  name: string | undefined;
  startTimer: TimerSlot | undefined;
}

/** The result every finished body hands the raw greenlet: nothing (the hub ignores it). */
const ENDED: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true as const });

/**
 * A link: a callback, or a greenlet waiting in `join` (woken with this greenlet). A joiner needs
 * no token: it takes its registration back in `finally` whenever it stops waiting, so a joiner
 * still registered is still waiting.
 */
type Link = LinkCallback<never> | Greenlet;

const MAIN = getmain();

function isIterator(value: unknown): value is Iterator<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Iterator<unknown>).next === 'function' && typeof (value as Iterator<unknown>).throw === 'function';
}

/**
 * A greenlet the hub runs: gevent's `Greenlet`. It is a `@loop/greenlet` greenlet whose parent
 * is the hub's main greenlet, with a result (`value` or `exception`), links and `join`, `get` and
 * `kill`. Create one with `hub.spawn`, `spawn` or `spawnLater` (or the constructor, then `start`).
 *
 * An exception it dies of is reported once to the hub's error handler, with its stack, and kept
 * for `get()`; it never reaches the loop callback that happened to resume the greenlet. Dying of
 * a {@link GreenletExit} (a kill) counts as success, its value being the `GreenletExit`
 * (gevent's rule).
 *
 * Blocking methods (`join`, `get`, a blocking `kill`) return a {@link Blocking}: write
 * `yield* g.join()`. Called outside every greenlet they throw `ERR_BLOCKING_IN_CALLBACK`.
 *
 * @example
 * ```ts
 * const worker = spawn(function* (n: number) { yield* sleep(10); return n * 2; }, 21);
 * const value = yield* worker.get();  // 42
 * ```
 */
export class Greenlet<T = unknown> extends RawGreenlet {
  /** The hub that runs this greenlet. */
  readonly hub: Hub;
  /**
   * @internal The wait token: moved on by every resume the hub makes and by the greenlet's end,
   * so that a wake-up recorded with an older token is ignored (see waiting.ts).
   */
  token = 0;

  // Few fields, on purpose: 100,000 waiting greenlets should cost little memory.
  readonly #fn: GreenletBody;
  #args: unknown[] | undefined;
  #flags = NEW;
  #result: unknown = undefined;
  // Most greenlets have no link or one: a single link is kept as is, several in an array.
  #links: Link | Link[] | undefined = undefined;
  #extra: Extra | undefined = undefined;

  /**
   * A greenlet that will run `fn(...args)` on `hub` once started ({@link Greenlet.start}).
   * @throws InvalidArgumentError when `fn` is not a function or `args` not an array;
   *   HubError `ERR_HUB_DESTROYED`
   */
  constructor(hub: Hub, fn: GreenletBody, args: readonly unknown[] = []) {
    super(null, MAIN);
    checkFunction('fn', fn);
    if (!Array.isArray(args)) throw new InvalidArgumentError('args must be an array');
    hub.assertLive();
    this.hub = hub;
    this.#fn = fn;
    this.#args = args as unknown[];
    // An own `run` from the start: the raw greenlet sets it to undefined when it starts, which
    // then changes a value instead of adding a property (a bigger object) to every greenlet.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the raw greenlet calls it with this greenlet as this
    this.run = Greenlet.prototype.run;
  }

  get #state(): number {
    return this.#flags & STATE;
  }

  set #state(state: number) {
    this.#flags = (this.#flags & ~STATE) | state;
  }

  /** @internal A failure of this greenlet is not passed to the error handler (hub.run's main greenlet). */
  quiet(): void {
    this.#flags |= QUIET;
  }

  /**
   * Schedule the greenlet to start in the hub's next drain (pending phase).
   * @throws HubError `ERR_HUB_ALREADY_STARTED` unless it is new, `ERR_HUB_DESTROYED`
   */
  start(): this {
    this.#assertNew();
    this.#state = SCHEDULED;
    this.hub.schedule(startEntry, this, undefined, undefined);
    return this;
  }

  /**
   * Schedule the greenlet to start `ms` ms from now, from a timer (timer phase).
   * @throws InvalidArgumentError for a bad `ms`; HubError `ERR_HUB_ALREADY_STARTED`, `ERR_HUB_DESTROYED`
   */
  startLater(ms: number): this {
    const delay = checkTimeout('ms', ms) ?? 0;
    this.#assertNew();
    this.#extra ??= { name: undefined, startTimer: undefined };
    this.#extra.startTimer = this.hub.acquireTimer(delay, startLaterEntry, this, undefined);
    this.#state = SCHEDULED;
    return this;
  }

  #assertNew(): void {
    this.hub.assertLive();
    if (this.#state !== NEW) throw new HubError('ERR_HUB_ALREADY_STARTED', `${String(this)} was already started`);
  }

  /** @internal Run now: called by the hub (main code) when the start is due. */
  begin(): void {
    if (this.#state !== SCHEDULED) return; // killed before it started
    this.#state = RUNNING;
    this.#releaseStartTimer();
    this.hub.startNow(this);
  }

  /**
   * What the raw greenlet runs: calls `fn`, and if it returned a generator, hands the raw
   * greenlet a {@link Body} that drives it and records how it ends. (A `*run()` wrapping the body
   * in `yield*` would do the same with a generator frame per greenlet, more memory, and one more
   * `yield*` level on every switch.) The body's exceptions never leave: the greenlet's end
   * always returns quietly to the hub.
   */
  override run(): unknown {
    const args = this.#args as unknown[];
    this.#args = undefined;
    let result: unknown;
    try {
      result = (this.#fn as (...a: unknown[]) => unknown).apply(this, args);
    } catch (error) {
      this.ended(error, true);
      return undefined;
    }
    if (isIterator(result)) return new Body(this, result);
    this.ended(result, false);
    return undefined;
  }

  /** @internal The body returned `result` or threw it (`failed`); the greenlet is done. */
  ended(result: unknown, failed: boolean): IteratorReturnResult<undefined> {
    this.#finish(result, failed && !(result instanceof GreenletExit) ? FAILED : SUCCEEDED);
    return ENDED;
  }

  #finish(result: unknown, state: number): void {
    this.#result = result;
    this.#state = state;
    this.token++; // no wake-up recorded before the end can reach it now
    if (state === FAILED && (this.#flags & QUIET) === 0) this.hub.schedule(reportEntry, this, result, undefined);
    if (this.#links !== undefined) this.#scheduleNotify();
  }

  #scheduleNotify(): void {
    if ((this.#flags & NOTIFYING) !== 0) return;
    this.#flags |= NOTIFYING;
    this.hub.schedule(notifyEntry, this, undefined, undefined);
  }

  /** @internal Run the links (hub, main code), in the order they were added. */
  notifyLinks(): void {
    this.#flags &= ~NOTIFYING;
    const links = this.#links;
    if (links === undefined) return;
    this.#links = undefined;
    if (Array.isArray(links)) {
      for (let i = 0; i < links.length; i++) this.#runLink(links[i] as Link);
    } else {
      this.#runLink(links);
    }
  }

  #runLink(link: Link): void {
    if (link instanceof Greenlet) {
      link.hub.resume(link, link.token, this);
      return;
    }
    try {
      (link as LinkCallback<T>)(this);
    } catch (error) {
      this.hub.reportError(error, undefined);
    }
  }

  #addLink(link: Link): void {
    const links = this.#links;
    if (links === undefined) this.#links = link;
    else if (Array.isArray(links)) links.push(link);
    else this.#links = [links, link];
    if (this.#state >= SUCCEEDED) this.#scheduleNotify();
  }

  #removeLink(link: Link): void {
    const links = this.#links;
    if (links === link) {
      this.#links = undefined;
    } else if (Array.isArray(links)) {
      const at = links.indexOf(link);
      if (at >= 0) links.splice(at, 1);
    }
  }

  /** `true` once the greenlet has finished: returned, died of an exception, or was killed. */
  get ready(): boolean {
    return this.#state >= SUCCEEDED;
  }

  /** `true` once it has finished without an exception (a kill with `GreenletExit` counts as success). */
  get successful(): boolean {
    return this.#state === SUCCEEDED;
  }

  /** What it returned, or the `GreenletExit` it was killed with; `undefined` until it succeeded. */
  get value(): T | GreenletExit | undefined {
    return this.#state === SUCCEEDED ? (this.#result as T | GreenletExit) : undefined;
  }

  /** The exception it died of; `undefined` unless it failed. */
  get exception(): unknown {
    return this.#state === FAILED ? this.#result : undefined;
  }

  /**
   * `true` once it has finished, or was killed before it could start (gevent's `dead`). The
   * raw greenlet's own state is in `started`.
   */
  override get dead(): boolean {
    return this.#state >= SUCCEEDED;
  }

  /** Its name: `Greenlet-<n>` (n small, unique in the hub) unless one was assigned. */
  get name(): string {
    this.#extra ??= { name: undefined, startTimer: undefined };
    this.#extra.name ??= `Greenlet-${this.hub.nextId()}`;
    return this.#extra.name;
  }

  set name(name: string) {
    if (typeof name !== 'string') throw new InvalidArgumentError(`name must be a string, got ${typeof name}`);
    this.#extra ??= { name: undefined, startTimer: undefined };
    this.#extra.name = name;
  }

  /** Like gevent's repr: `<Greenlet "Greenlet-3": fetch>`. */
  override toString(): string {
    return `<Greenlet "${this.name}": ${this.#fn.name || 'anonymous'}>`;
  }

  /**
   * Call `callback(greenlet)` once the greenlet has finished (at once, in the next drain, if it
   * already has). It runs in the hub (pending phase), so it cannot block; an exception it throws
   * goes to the hub's error handler.
   * @throws InvalidArgumentError when `callback` is not a function
   */
  link(callback: LinkCallback<T>): void {
    checkFunction('callback', callback);
    this.#addLink(callback as Link);
  }

  /** Remove a callback added with {@link Greenlet.link} (its first registration); no-op if absent. */
  unlink(callback: LinkCallback<T>): void {
    this.#removeLink(callback as Link);
  }

  /**
   * Wait until the greenlet has finished, at most `timeout` ms if given. Evaluates to `true` if
   * it has, `false` if the timeout came first. Nothing is raised either way: read the result
   * with `value`/`exception` or {@link Greenlet.get}.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet; InvalidArgumentError for a bad timeout
   */
  join(timeout?: number): Blocking<boolean> {
    const waiter = currentGreenlet('Greenlet.join()');
    return this.#join(waiter, checkTimeout('timeout', timeout));
  }

  *#join(waiter: Greenlet, timeout: number | undefined): Generator<SwitchToken, boolean, unknown> {
    if (this.#state >= SUCCEEDED) return true;
    this.#addLink(waiter);
    try {
      return (yield* suspendFor(waiter, timeout)) !== TIMED_OUT;
    } finally {
      // On every way out (woken by the end, timed out, killed) the registration goes, so a
      // registered joiner is always one still waiting. (Woken by the end, it is gone already.)
      this.#removeLink(waiter);
    }
  }

  /**
   * Evaluate to what the greenlet returned, or raise the exception it died of, waiting for it
   * to finish first (unless `block` is false). A greenlet killed with a `GreenletExit` succeeded
   * (gevent's rule) and evaluates to that `GreenletExit`, which the static type leaves out: kill
   * and read the same greenlet only where you check for it.
   * @throws the greenlet's exception; {@link Timeout} when it is not finished in time (or at
   *   once without `block`); HubError `ERR_BLOCKING_IN_CALLBACK` outside a greenlet
   */
  get(options?: GetOptions): Blocking<T> {
    const waiter = currentGreenlet('Greenlet.get()');
    checkOptions('options', options);
    const timeout = checkTimeout('options.timeout', options?.timeout);
    return this.#get(waiter, options?.block ?? true, timeout);
  }

  *#get(waiter: Greenlet, block: boolean, timeout: number | undefined): Generator<SwitchToken, T, unknown> {
    if (this.#state < SUCCEEDED) {
      if (!block) throw new Timeout(undefined, undefined, `${String(this)} has not finished`);
      if (!(yield* this.#join(waiter, timeout))) throw new Timeout(timeout, undefined, `${String(this)} did not finish within ${String(timeout)} ms`);
    }
    if (this.#state === FAILED) throw this.#result;
    return this.#result as T;
  }

  /**
   * Raise `exception` (default: a new {@link GreenletExit}) in the greenlet, which runs its
   * `finally` blocks and releases what it waited on (timers, queue and lock registrations). A
   * greenlet not started yet never runs; a finished one is left alone. With `block` (the
   * default) this waits until the greenlet is dead, at most `timeout` ms; with `block: false` it
   * returns at once (and may be called from main code, without `yield*`).
   *
   * The exception is raised from the hub's next drain (pending phase), wherever the greenlet is
   * suspended; a greenlet killing itself without `block` gets it at its next switch.
   * @throws HubError `ERR_BLOCKING_IN_CALLBACK` with `block` outside a greenlet
   * @example
   * ```ts
   * yield* worker.kill();                    // in a greenlet: waits for its death
   * worker.kill(undefined, { block: false }); // anywhere
   * ```
   */
  kill(exception?: unknown, options?: KillOptions): Blocking<void> {
    checkOptions('options', options);
    const block = options?.block ?? true;
    const waiter = block ? currentGreenlet('Greenlet.kill()') : undefined;
    const timeout = checkTimeout('options.timeout', options?.timeout);
    const error = exception === undefined ? new GreenletExit() : exception;
    if (!this.killSoon(error) || waiter === undefined) return NOTHING;
    return this.#joinQuietly(waiter, timeout);
  }

  *#joinQuietly(waiter: Greenlet, timeout: number | undefined): Generator<SwitchToken, void, unknown> {
    yield* this.#join(waiter, timeout);
  }

  /**
   * @internal Start killing: a greenlet not started yet ends at once (it never runs); a
   * running one gets `error` raised from the hub's next drain. Returns `true` if the greenlet
   * is still to die (a wait makes sense), `false` if it is already finished.
   */
  killSoon(error: unknown): boolean {
    if (this.#state >= SUCCEEDED) return false;
    if (this.#state < RUNNING) {
      this.cancelStart(error);
      return false;
    }
    this.hub.schedule(killEntry, this, error, undefined);
    return true;
  }

  /** @internal A greenlet killed before it ran: it never will; it ends with `error` now. */
  cancelStart(error: unknown): void {
    this.#releaseStartTimer();
    this.#args = undefined;
    this.#finish(error, error instanceof GreenletExit ? SUCCEEDED : FAILED);
  }

  #releaseStartTimer(): void {
    const slot = this.#extra?.startTimer;
    if (slot === undefined) return;
    (this.#extra as Extra).startTimer = undefined;
    this.hub.releaseTimer(slot);
  }

  /**
   * A promise of the greenlet's result, for `async` code: it resolves with what the greenlet
   * returned or rejects with the exception it died of (which the hub still reports). Settled
   * from the hub (pending phase) once the greenlet has finished.
   */
  promise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.link((greenlet) => {
        if (greenlet.successful) resolve(greenlet.value as T);
        else reject(greenlet.exception);
      });
    });
  }
}

/**
 * The iterator the raw greenlet drives in place of the body's generator: it forwards each
 * resume to the generator and tells the greenlet how the body ended. A method call per switch,
 * where a wrapping generator would add a frame. (The greenlet itself cannot be this iterator:
 * its `throw` is the greenlet API's.)
 */
class Body {
  constructor(
    private readonly greenlet: Greenlet,
    private readonly body: Iterator<unknown, unknown, unknown>,
  ) {}

  next(value: unknown): IteratorResult<unknown, unknown> {
    let result: IteratorResult<unknown, unknown>;
    try {
      result = this.body.next(value);
    } catch (error) {
      return this.greenlet.ended(error, true);
    }
    return result.done === true ? this.greenlet.ended(result.value, false) : result;
  }

  throw(error: unknown): IteratorResult<unknown, unknown> {
    let result: IteratorResult<unknown, unknown>;
    try {
      result = (this.body.throw as (e: unknown) => IteratorResult<unknown, unknown>).call(this.body, error);
    } catch (raised) {
      return this.greenlet.ended(raised, true);
    }
    return result.done === true ? this.greenlet.ended(result.value, false) : result;
  }
}

function startEntry(greenlet: unknown): void {
  (greenlet as Greenlet).begin();
}

function startLaterEntry(greenlet: unknown): void {
  (greenlet as Greenlet).begin();
}

function notifyEntry(greenlet: unknown): void {
  (greenlet as Greenlet).notifyLinks();
}

function reportEntry(greenlet: unknown, error: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.reportError(error, g);
}

function killEntry(greenlet: unknown, error: unknown): void {
  const g = greenlet as Greenlet;
  g.hub.interrupt(g, error);
}
