import { Greenlet as RawGreenlet, GreenletExit, getmain } from '@loop/greenlet';
import type { SwitchToken } from '@loop/greenlet';
import { HubError, InvalidArgumentError, checkFunction, checkOptions, checkTimeout } from './errors.js';
import type { Hub, TimerSlot } from './hub.js';
import { Timeout } from './timeout.js';
import { NOTHING, TIMED_OUT, currentGreenlet, suspendFor, type Blocking } from './waiting.js';

/** What a greenlet runs: a generator function (it may block), or a plain function (it may not). */
// `never[]` accepts functions of any parameters; Parameters<F> gives spawn its argument types.
export type GreenletBody = (...args: never[]) => unknown;

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

// States. A greenlet is NEW until start(), SCHEDULED until it first runs, RUNNING until it ends.
const NEW = 0;
const SCHEDULED = 1;
const RUNNING = 2;
const SUCCEEDED = 3;
const FAILED = 4;

/** The marker of a callback in the links list (joiners carry their token there instead). */
const CALLBACK = -1;

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
  /** @internal Whether a failure is passed to the hub's error handler (not for `hub.run`'s main). */
  reportFailure = true;

  readonly #fn: GreenletBody;
  #args: unknown[] | undefined;
  #state = NEW;
  #result: unknown = undefined;
  // Joiners (greenlet, token) and callbacks (function, CALLBACK), flat; allocated on first use.
  #links: unknown[] | undefined = undefined;
  #notifying = false;
  #name: string | undefined = undefined;
  #startTimer: TimerSlot | undefined = undefined;

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
    this.#startTimer = this.hub.acquireTimer(delay, startLaterEntry, this, undefined);
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
    if (this.#startTimer !== undefined) {
      this.hub.releaseTimer(this.#startTimer);
      this.#startTimer = undefined;
    }
    this.hub.startNow(this);
  }

  /**
   * The body every hub greenlet runs (the raw greenlet's `run`): calls `fn`, delegates to its
   * generator, and records how it ended. Its exceptions never leave it, so the greenlet's end
   * always returns quietly to the hub.
   */
  override *run(): Generator<SwitchToken, void, unknown> {
    const args = this.#args as unknown[];
    this.#args = undefined;
    let result: unknown;
    try {
      result = (this.#fn as (...a: unknown[]) => unknown).apply(this, args);
      if (isIterator(result)) result = yield* result as Iterator<SwitchToken, unknown, unknown> & Iterable<SwitchToken, unknown, unknown>;
    } catch (error) {
      this.#finish(error, error instanceof GreenletExit ? SUCCEEDED : FAILED);
      return;
    }
    this.#finish(result, SUCCEEDED);
  }

  #finish(result: unknown, state: number): void {
    this.#result = result;
    this.#state = state;
    this.token++; // no wake-up recorded before the end can reach it now
    if (state === FAILED && this.reportFailure) this.hub.schedule(reportEntry, this, result, undefined);
    if (this.#links !== undefined && this.#links.length > 0) this.#scheduleNotify();
  }

  #scheduleNotify(): void {
    if (this.#notifying) return;
    this.#notifying = true;
    this.hub.schedule(notifyEntry, this, undefined, undefined);
  }

  /** @internal Run the links (hub, main code): callbacks first, in order, then wake the joiners. */
  notifyLinks(): void {
    this.#notifying = false;
    const links = this.#links;
    if (links === undefined) return;
    this.#links = undefined;
    for (let i = 0; i < links.length; i += 2) {
      const target = links[i];
      const token = links[i + 1] as number;
      if (token === CALLBACK) {
        try {
          (target as LinkCallback<T>)(this);
        } catch (error) {
          this.hub.reportError(error, undefined);
        }
      } else {
        const joiner = target as Greenlet;
        joiner.hub.resume(joiner, token, this);
      }
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

  /** What it returned (a `GreenletExit` if it was killed); `undefined` until it succeeded. */
  get value(): T | undefined {
    return this.#state === SUCCEEDED ? (this.#result as T) : undefined;
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
    this.#name ??= `Greenlet-${this.hub.nextId()}`;
    return this.#name;
  }

  set name(name: string) {
    if (typeof name !== 'string') throw new InvalidArgumentError(`name must be a string, got ${typeof name}`);
    this.#name = name;
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
    (this.#links ??= []).push(callback, CALLBACK);
    if (this.#state >= SUCCEEDED) this.#scheduleNotify();
  }

  /** Remove a callback added with {@link Greenlet.link} (its first registration); no-op if absent. */
  unlink(callback: LinkCallback<T>): void {
    const links = this.#links;
    if (links === undefined) return;
    for (let i = 0; i < links.length; i += 2) {
      if (links[i] === callback && links[i + 1] === CALLBACK) {
        links.splice(i, 2);
        return;
      }
    }
  }

  /** @internal Wake `joiner` (with this greenlet) when this one finishes. */
  addJoiner(joiner: Greenlet): void {
    (this.#links ??= []).push(joiner, joiner.token);
    if (this.#state >= SUCCEEDED) this.#scheduleNotify();
  }

  /** @internal Drop `joiner`'s registration (it stopped waiting). */
  removeJoiner(joiner: Greenlet, token: number): void {
    const links = this.#links;
    if (links === undefined) return;
    for (let i = 0; i < links.length; i += 2) {
      if (links[i] === joiner && links[i + 1] === token) {
        links.splice(i, 2);
        return;
      }
    }
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
    const token = waiter.token;
    this.addJoiner(waiter);
    try {
      return (yield* suspendFor(waiter, timeout)) !== TIMED_OUT;
    } finally {
      // Resumed by anything but this greenlet's end: take the registration back.
      if (this.#state < SUCCEEDED) this.removeJoiner(waiter, token);
    }
  }

  /**
   * Evaluate to what the greenlet returned, or raise the exception it died of, waiting for it
   * to finish first (unless `block` is false).
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
    if (this.#startTimer !== undefined) {
      this.hub.releaseTimer(this.#startTimer);
      this.#startTimer = undefined;
    }
    this.#args = undefined;
    this.#finish(error, error instanceof GreenletExit ? SUCCEEDED : FAILED);
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
