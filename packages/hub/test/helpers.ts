// The shared helper of the hub's suite: every test file registers its tests with describeHub,
// which runs them once per backend of backends.ts (the way runConformance runs the conformance
// suite), each on a fresh loop and hub, and checks that the test left nothing behind.
import type { Backend, EventLoop, Phase } from '@loop/core';
import { describe, expect } from 'vitest';
import { Hub, type Greenlet, type HubOptions } from '../src/index.js';
import { BACKENDS } from './backends.js';

/** An error the hub reported (a greenlet that died, or a link callback that threw). */
export interface Reported {
  error: unknown;
  greenlet: Greenlet | undefined;
}

/** What a test's main greenlet is given. */
export interface HubContext {
  hub: Hub;
  loop: EventLoop;
  backend: Backend;
  /** Errors the hub reported so far (through its onError). */
  reported: Reported[];
  /** Errors the loop's error handler received so far. */
  loopErrors: { error: unknown; phase: Phase }[];
}

/** Options of {@link HubTester.run}. */
export interface RunOptions {
  /** The test expects the hub to report errors: do not fail on them (assert them yourself). */
  expectReports?: boolean;
  /** Options for the hub; `onError` defaults to recording into `reported`. */
  hub?: HubOptions;
}

/** The per-backend kit each test file gets. */
export interface HubTester {
  backend: Backend;
  /**
   * Run `main` as the main greenlet of a fresh hub on a fresh loop (through `hub.run`), then
   * check that the test left nothing behind: `loop.close()` refuses while a timer or other
   * handle is still active (a leaked timer fails the test), and no error was reported unless
   * `expectReports`. Resolves with main's value and the context.
   */
  run<T>(main: (context: HubContext) => Generator<unknown, T, unknown>, options?: RunOptions): Promise<{ value: T } & HubContext>;
  /** A fresh loop and hub for tests that drive them by hand; `finish()` checks and closes. */
  open(options?: RunOptions): HubContext & { finish(): void };
}

function open(backend: Backend, options: RunOptions | undefined): HubContext & { finish(): void } {
  const loopErrors: { error: unknown; phase: Phase }[] = [];
  const reported: Reported[] = [];
  const loop = backend.createLoop({ onError: (error, phase) => loopErrors.push({ error, phase }) });
  const hub = new Hub(loop, { onError: (error, greenlet) => reported.push({ error, greenlet }), ...options?.hub });
  const context = { hub, loop, backend, reported, loopErrors };
  return {
    ...context,
    finish(): void {
      hub.destroy();
      loop.close(); // throws ERR_LOOP_BUSY if a handle (a timer) is still active: a leak
      if (!options?.expectReports) {
        expect(reported.map((r) => r.error)).toEqual([]);
        expect(loopErrors.map((e) => e.error)).toEqual([]);
      }
    },
  };
}

function tester(backend: Backend): HubTester {
  return {
    backend,
    async run(main, options) {
      const context = open(backend, options);
      let value;
      try {
        value = await context.hub.run(main, context);
      } catch (error) {
        try {
          context.finish();
        } catch {
          // the main greenlet's failure is the one to report
        }
        throw error;
      }
      context.finish();
      return { value, ...context };
    },
    open: (options) => open(backend, options),
  };
}

/** Register `define`'s tests once per backend, under `<title> (<backend>)`. */
export function describeHub(title: string, define: (t: HubTester) => void): void {
  for (const backend of BACKENDS) {
    describe(`${title} (${backend.name})`, () => define(tester(backend)));
  }
}

/** What `fn` throws (fails the test when it does not throw). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Run `fn` from a loop timer callback (main code, outside every greenlet) `ms` ms from now. */
export function later(loop: EventLoop, ms: number, fn: () => void): void {
  loop
    .timer((timer) => {
      timer.close();
      fn();
    })
    .start(ms);
}
