import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { EventLoopError, UnsupportedError } from '../errors.js';
import type { EventLoop, PhaseHook } from '../loop.js';
import { forCapability, passTime, recordingLoop, withLoop, type LoopFactory } from './helpers.js';


/** The phase, timer, callback, run-mode and error rules of the contract (libuv's test list). */
export function defineLoopSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  describe('timers', () => {
    it('runs timers in due-time order, then in start order', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        loop.timer(() => order.push('c')).start(20);
        loop.timer(() => order.push('a1')).start(0);
        loop.timer(() => order.push('a2')).start(0);
        loop.timer(() => order.push('b')).start(10);
        await loop.run();
        expect(order).toEqual(['a1', 'a2', 'b', 'c']);
      }));

    it('never runs a 0 ms timer inside start(): it runs in the next iteration', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        loop.timer(() => fired++).start(0);
        expect(fired).toBe(0);
        expect(await loop.run()).toBe(false);
        expect(fired).toBe(1);
      }));

    it('repeats a timer until it is stopped from its own callback', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        loop
          .timer((timer) => {
            if (++fired === 3) timer.stop();
          })
          .start(1, 1);
        expect(await loop.run()).toBe(false);
        expect(fired).toBe(3);
      }));

    it('restarts an active timer when it is started twice', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer(() => fired++);
        timer.start(60_000);
        timer.start(0);
        expect(await loop.run()).toBe(false);
        expect(fired).toBe(1);
        expect(timer.isActive()).toBe(false);
      }));

    it('cancels a timer from its own callback with close(), running the close callback', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        loop
          .timer((timer) => {
            order.push('fire');
            timer.close(() => order.push('closed'));
          })
          .start(0, 1);
        await loop.run();
        expect(order).toEqual(['fire', 'closed']);
      }));

    it('runs a 0 ms timer restarted from its own callback once per iteration, not in a spin', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        let fired = 0;
        const check = loop.check(() => order.push('check'));
        check.start();
        loop
          .timer((timer) => {
            order.push('timer');
            if (++fired < 3) timer.start(0);
            else check.stop();
          })
          .start(0);
        await loop.run();
        expect(order).toEqual(['timer', 'check', 'timer', 'check', 'timer']);
      }));

    it('runs a 0 ms timer started from a check hook in the next iteration, before its pending and prepare phases', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        let ender: unknown;
        const prepare = loop.prepare(() => {
          order.push('prepare');
          // Prepare and check hooks alone let the poll block indefinitely (as in libuv): a timer
          // ends it. Started here: one started before run() may be due by then on a busy machine,
          // run before the first iteration, and leave the poll waiting for ever.
          ender ??= loop.timer(() => undefined).start(1);
        });
        prepare.start();
        const check = loop.check((hook) => {
          order.push('check');
          hook.stop();
          loop.timer(() => order.push('timer')).start(0);
          loop.callSoon(() => {
            order.push('pending');
            prepare.stop();
          });
        });
        check.start();
        await loop.run();
        expect(order).toEqual(['prepare', 'check', 'timer', 'pending']);
        check.close();
        prepare.close();
        await loop.run();
      }));

    it('honours delays past 2^31-1 ms instead of firing at once like setTimeout', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const huge = loop.timer(() => order.push('huge'));
        huge.start(Number.MAX_SAFE_INTEGER);
        const big = loop.timer(() => order.push('big'));
        big.start(2 ** 31);
        loop
          .timer(() => {
            order.push('short');
            huge.close();
            big.close();
          })
          .start(30);
        await loop.run();
        expect(order).toEqual(['short']);
      }));

    it('rejects negative, non-finite and over-large timeouts with ERR_INVALID_ARG', () =>
      withLoop(createLoop, (loop) => {
        const timer = loop.timer(() => undefined);
        for (const bad of [-1, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER * 2]) {
          expect(() => timer.start(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        }
        expect(() => timer.start(1, -5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        expect(timer.isActive()).toBe(false);
      }));

    it('refuses to restart a closed timer with ERR_HANDLE_CLOSED', () =>
      withLoop(createLoop, async (loop) => {
        const timer = loop.timer(() => undefined);
        timer.close();
        expect(() => timer.start(1)).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CLOSED' }));
        await loop.run();
      }));

    it('reports how long until an active timer is due, and undefined when inactive', () =>
      withLoop(createLoop, (loop) => {
        const timer = loop.timer(() => undefined);
        expect(timer.dueIn()).toBeUndefined();
        timer.start(5_000);
        // (now + 5000) - now is 5000 only up to rounding for a fractional real clock reading.
        expect(timer.dueIn()).toBeCloseTo(5_000, 6);
        timer.stop();
        expect(timer.dueIn()).toBeUndefined();
      }));

    it('again() re-arms a repeating timer with its repeat value', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer((t) => {
          fired++;
          t.stop();
        });
        timer.repeat = 1;
        timer.again();
        expect(timer.isActive()).toBe(true);
        await loop.run();
        expect(fired).toBe(1);
      }));
  });

  describe('callSoon', () => {
    it('runs callbacks in FIFO order', () =>
      withLoop(createLoop, async (loop) => {
        const order: number[] = [];
        for (let i = 0; i < 5; i++) loop.callSoon(() => order.push(i));
        await loop.run();
        expect(order).toEqual([0, 1, 2, 3, 4]);
      }));

    it('runs a callback queued from a callback in the next iteration, after that iteration’s check', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const check = loop.check(() => order.push('check'));
        check.start();
        loop.callSoon(() => {
          order.push('a');
          loop.callSoon(() => {
            order.push('b');
            check.stop();
          });
        });
        await loop.run();
        expect(order).toEqual(['a', 'check', 'b']);
        check.close();
        await loop.run();
      }));

    it('does not starve timers: a self-requeueing callback lets a due timer run', () =>
      withLoop(createLoop, async (loop) => {
        let spins = 0;
        let done = false;
        const spin = (): void => {
          spins++;
          if (!done) loop.callSoon(spin);
        };
        // The timer is due while the chain runs without waiting for any clock: a 5 ms timer would
        // never come due on a virtual clock, which moves only while the loop waits.
        loop.callSoon(() => {
          loop.timer(() => (done = true)).start(0);
          spin();
        });
        await loop.run();
        expect(done).toBe(true);
        expect(spins).toBeGreaterThan(1);
      }));

    it('drops a cancelled callback', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const pending = loop.callSoon(() => order.push('cancelled'));
        loop.callSoon(() => order.push('kept'));
        pending.cancel();
        await loop.run();
        expect(order).toEqual(['kept']);
      }));
  });

  describe('run modes and loop state', () => {
    it('alive() is true while a referenced handle is active or a callback is pending', () =>
      withLoop(createLoop, async (loop) => {
        expect(loop.alive()).toBe(false);
        const timer = loop.timer(() => undefined).start(1);
        expect(loop.alive()).toBe(true);
        timer.stop();
        expect(loop.alive()).toBe(false);
        loop.callSoon(() => undefined);
        expect(loop.alive()).toBe(true);
        expect(await loop.run()).toBe(false);
        expect(loop.alive()).toBe(false);
      }));

    it('returns at once from run() when nothing is alive', () =>
      withLoop(createLoop, async (loop) => {
        expect(await loop.run()).toBe(false);
      }));

    it('stop() makes run() return after the current iteration, which still runs its check phase', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        let iterations = 0;
        const prepare = loop.prepare(() => {
          order.push('prepare');
          if (++iterations === 2) loop.stop();
        });
        const check = loop.check(() => order.push('check'));
        prepare.start();
        check.start();
        // Keeps the poll from blocking indefinitely between iterations.
        const tick = loop.timer(() => undefined).start(1, 1);
        expect(await loop.run()).toBe(true);
        expect(order).toEqual(['prepare', 'check', 'prepare', 'check']);
        prepare.close();
        check.close();
        tick.close();
        expect(await loop.run()).toBe(false);
      }));

    it('honours stop() called before run(): run() returns without iterating', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        loop.timer(() => fired++).start(0);
        loop.stop();
        expect(await loop.run()).toBe(true);
        expect(fired).toBe(0);
        expect(await loop.run()).toBe(false);
        expect(fired).toBe(1);
      }));

    it('refuses a reentrant run() with ERR_LOOP_RUNNING', () =>
      withLoop(createLoop, async (loop) => {
        let caught: unknown;
        loop.callSoon(() => {
          try {
            void loop.run();
          } catch (error) {
            caught = error;
          }
        });
        expect(loop.isRunning()).toBe(false);
        await loop.run();
        expect(caught).toBeInstanceOf(EventLoopError);
        expect((caught as EventLoopError).code).toBe('ERR_LOOP_RUNNING');
      }));

    it('rejects an unknown run mode with ERR_INVALID_ARG', () =>
      withLoop(createLoop, (loop) => {
        expect(() => loop.run('sometimes' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
      }));

    it('keeps now() fixed within an iteration until updateTime()', () =>
      withLoop(createLoop, async (loop) => {
        const seen: number[] = [];
        loop.callSoon(() => {
          seen.push(loop.now());
          passTime(loop, 5);
          seen.push(loop.now());
          loop.updateTime();
          seen.push(loop.now());
        });
        await loop.run();
        expect(seen[1]).toBe(seen[0]);
        expect(seen[2] as number).toBeGreaterThanOrEqual((seen[0] as number) + 5);
      }));

    it('close() refuses while handles are live, names them, and the closed loop refuses new work', () => {
      const { loop } = recordingLoop(createLoop);
      const timer = loop.timer(() => undefined).start(1_000);
      expect(() => loop.close()).toThrow(expect.objectContaining({ code: 'ERR_LOOP_BUSY', message: expect.stringContaining('timer') }));
      timer.stop();
      loop.close();
      expect(() => loop.callSoon(() => undefined)).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED' }));
      expect(() => loop.timer(() => undefined)).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED' }));
      expect(() => loop.run()).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED' }));
    });

    it('close() refuses while a close callback is still pending', () =>
      withLoop(createLoop, async (loop) => {
        const timer = loop.timer(() => undefined);
        let closed = false;
        timer.close(() => (closed = true));
        expect(() => loop.close()).toThrow(expect.objectContaining({ code: 'ERR_LOOP_BUSY' }));
        await loop.run();
        expect(closed).toBe(true);
      }));

    it('rejects a non-function callback with ERR_INVALID_ARG, a TypeError that is also an EventLoopError', () =>
      withLoop(createLoop, (loop) => {
        expect(() => loop.callSoon(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        expect(() => loop.timer(undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        expect(() => loop.timer(undefined as never)).toThrow(TypeError);
        expect(() => loop.timer(undefined as never)).toThrow(EventLoopError);
      }));

    it('passes an error given to reportError() to the error handler with its phase, and goes on', () =>
      withLoop(createLoop, async (loop, errors) => {
        const order: string[] = [];
        loop.callSoon(() => {
          loop.reportError(new Error('from a layer on top'), 'pending');
          order.push('after the report');
        });
        await loop.run();
        expect(order).toEqual(['after the report']);
        expect(errors.map((e) => [(e.error as Error).message, e.phase])).toEqual([['from a layer on top', 'pending']]);
      }));
  });

  forCapability(capabilities.runOnce, 'run once', () => {
    it('runs a single iteration and says whether the loop is still alive', () =>
      withLoop(createLoop, async (loop) => {
        let ticks = 0;
        const ticker = loop.timer(() => ticks++).start(1, 1);
        expect(await loop.run('once')).toBe(true);
        expect(ticks).toBe(1);
        expect(await loop.run('once')).toBe(true);
        expect(ticks).toBe(2);
        ticker.close();
        expect(await loop.run('once')).toBe(false);
        expect(ticks).toBe(2);
      }));

    it('blocks for a lone timer and runs it (forward progress)', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        loop.timer(() => fired++).start(5);
        expect(await loop.run('once')).toBe(false);
        expect(fired).toBe(1);
      }));
  }, () => {
    it("run('once') throws UnsupportedError", () =>
      withLoop(createLoop, (loop) => {
        expect(() => loop.run('once')).toThrow(UnsupportedError);
      }));
  });

  forCapability(capabilities.runNowait, 'run nowait', () => {
    it('does not block for a timer that is not yet due', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer(() => fired++).start(60_000);
        expect(await loop.run('nowait')).toBe(true);
        expect(fired).toBe(0);
        timer.stop();
      }));

    it('runs pending callbacks, then the due timers at the end of its one iteration', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        loop.timer(() => order.push('timer')).start(0);
        loop.callSoon(() => order.push('pending'));
        expect(await loop.run('nowait')).toBe(false);
        expect(order).toEqual(['pending', 'timer']);
      }));
  }, () => {
    it("run('nowait') throws UnsupportedError", () =>
      withLoop(createLoop, (loop) => {
        expect(() => loop.run('nowait')).toThrow(UnsupportedError);
      }));
  });

  describe('ref and unref', () => {
    it('an unreferenced timer alone does not keep the loop alive', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer(() => fired++).start(60_000).unref();
        expect(timer.hasRef()).toBe(false);
        expect(loop.alive()).toBe(false);
        expect(await loop.run()).toBe(false);
        expect(fired).toBe(0);
        timer.stop();
      }));

    it('an unreferenced timer still fires while another handle keeps the loop alive', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const ticker = loop.timer(() => order.push('unref')).start(1).unref();
        loop.timer(() => order.push('ref')).start(30);
        await loop.run();
        expect(order).toEqual(['unref', 'ref']);
        ticker.ref();
        expect(ticker.hasRef()).toBe(true);
      }));
  });

  describe('errors in callbacks', () => {
    it('reports an error thrown by any callback to the error handler and keeps running', () =>
      withLoop(createLoop, async (loop, errors) => {
        const order: string[] = [];
        loop
          .timer(() => {
            order.push('timer');
            throw new Error('from timer');
          })
          .start(0);
        loop.timer(() => order.push('timer after')).start(0);
        loop.callSoon(() => {
          order.push('pending');
          throw new Error('from pending');
        });
        loop.callSoon(() => order.push('pending after'));
        loop
          .timer((timer) =>
            timer.close(() => {
              order.push('close');
              throw new Error('from close');
            }),
          )
          .start(1);
        await loop.run();
        expect(order).toEqual(['timer', 'timer after', 'pending', 'pending after', 'close']);
        expect(errors.map((e) => [(e.error as Error).message, e.phase])).toEqual([
          ['from timer', 'timer'],
          ['from pending', 'pending'],
          ['from close', 'close'],
        ]);
      }));

    it('survives an error handler that throws itself', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const printed: string[] = [];
        const write = process.stderr.write.bind(process.stderr);
        const listeners = process.listeners('uncaughtException');
        process.removeAllListeners('uncaughtException');
        process.stderr.write = ((text: string) => printed.push(String(text)) > 0) as typeof process.stderr.write;
        try {
          loop.setErrorHandler(() => {
            throw new Error('handler broke');
          });
          loop.callSoon(() => {
            throw new Error('callback broke');
          });
          loop.callSoon(() => order.push('next'));
          await loop.run();
        } finally {
          process.stderr.write = write;
          for (const listener of listeners) process.on('uncaughtException', listener);
        }
        expect(order).toEqual(['next']);
        expect(printed.join('')).toContain('handler broke');
        expect(printed.join('')).toContain('callback broke');
      }));

    for (const kind of (['idle', 'prepare', 'check'] as const).filter((each) => capabilities[each])) {
      it(`reports an error thrown by a ${kind} hook to the error handler with phase ${kind}, and runs the next ${kind} hook`, () =>
        withLoop(createLoop, async (loop, errors) => {
          const order: string[] = [];
          const throwing = loop[kind](() => {
            order.push('throws');
            throw new Error(`from ${kind}`);
          });
          const next = loop[kind](() => {
            order.push('next');
            throwing.close();
            next.close();
            ticker.close();
          });
          // Prepare and check hooks alone let the poll block: a repeating timer ends each wait.
          const ticker = loop.timer(() => undefined).start(1, 1);
          throwing.start();
          next.start();
          await loop.run();
          expect(order).toEqual(['throws', 'next']);
          expect(errors.map((e) => [(e.error as Error).message, e.phase])).toEqual([[`from ${kind}`, kind]]);
        }));
    }
  });

  describe('phase hooks', () => {
    const hookKinds = (['idle', 'prepare', 'check'] as const).filter((kind) => capabilities[kind]);

    it('runs timer, pending, idle, prepare, check and close phases in that order', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const hooks: PhaseHook[] = [];
        for (const kind of hookKinds) {
          const hook = loop[kind]((h) => {
            order.push(kind);
            h.stop();
          });
          hook.start();
          hooks.push(hook);
        }
        loop.callSoon(() => order.push('pending'));
        loop
          .timer((timer) => {
            order.push('timer');
            timer.close(() => order.push('close'));
          })
          .start(0);
        await loop.run();
        const phases = ['timer', 'pending', 'idle', 'prepare', 'check', 'close'];
        expect(order).toEqual(phases.filter((phase) => !['idle', 'prepare', 'check'].includes(phase) || hookKinds.includes(phase as never)));
        for (const hook of hooks) hook.close();
        await loop.run();
      }));

    for (const kind of ['idle', 'prepare', 'check'] as const) {
      forCapability(
        capabilities[kind],
        `${kind} hooks`,
        () => {
          it(`a ${kind} hook stopped by an earlier ${kind} hook in the same phase does not run`, () =>
            withLoop(createLoop, async (loop) => {
              const order: string[] = [];
              const second = loop[kind](() => order.push('second'));
              const first = loop[kind]((hook) => {
                order.push('first');
                hook.stop();
                second.stop();
              });
              first.start();
              second.start();
              // A lone check hook lets the poll block indefinitely: this timer ends it. Started from
              // the pending phase: one started before run() may be due by then on a busy machine,
              // run before the first iteration, and leave the poll waiting for ever.
              loop.callSoon(() => loop.timer(() => undefined).start(1));
              await loop.run();
              expect(order).toEqual(['first']);
            }));

          it(`starting an active ${kind} hook again does nothing`, () =>
            withLoop(createLoop, async (loop) => {
              let runs = 0;
              const hook = loop[kind]((h) => {
                runs++;
                h.stop();
              });
              hook.start().start();
              loop.callSoon(() => loop.timer(() => undefined).start(1)); // as in the test above
              await loop.run();
              expect(runs).toBe(1);
            }));

          if (kind === 'idle') {
            it('an active idle hook keeps the poll from blocking', () =>
              withLoop(createLoop, async (loop) => {
                let idles = 0;
                const idle = loop.idle(() => idles++);
                const timer = loop.timer(() => undefined).start(60_000);
                idle.start();
                // Each run('once') would block for the 60 s timer if the idle hook did not keep the poll from blocking.
                for (let i = 0; i < 50; i++) await loop.run('once');
                expect(idles).toBe(50);
                idle.stop();
                timer.stop();
              }));
          }
        },
        () => {
          it(`${kind}() throws UnsupportedError`, () =>
            withLoop(createLoop, (loop) => {
              expect(() => loop[kind](() => undefined)).toThrow(UnsupportedError);
            }));
        },
      );
    }
  });
}
