// Edges of the kit's phase machine that the conformance suite cannot see from outside: when the
// poll is woken, what close() names, the default error handler. Found by mutation testing (see
// CONTRIBUTING.md). The loop here runs on a poller driven by hand and a clock the test moves.
import { afterEach, describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { EventLoopError, UnsupportedError } from '../errors.js';
import type { Completion, HttpHandler, HttpServer, HttpServerOptions, Timer } from '../index.js';
import type { ConnectOptions, ListenOptions, TcpServer, TcpStream } from '../stream.js';
import { LoopBase, reportToProcess, type Poller } from './loop-base.js';

class ManualPoller implements Poller {
  readonly calls: string[] = [];
  poll(timeout: number): void {
    this.calls.push(`poll ${timeout}`);
  }
  wake(): void {
    this.calls.push('wake');
  }
  release(): void {
    this.calls.push('release');
  }
}

const allCapabilities: Capabilities = {
  runOnce: true,
  runNowait: true,
  idle: true,
  prepare: true,
  check: true,
  io: false,
  tcp: false,
  reusePort: false,
  http: false,
  httpPipelining: false,
  httpBadRequest: false,
  httpCloseIdle: false,
  httpLimits: { maxHeaderSize: false, maxHeaderCount: false, maxUrlLength: false, maxBodySize: false, headersTimeout: false, keepAliveTimeout: false },
  websocket: false,
};

class ManualLoop extends LoopBase {
  readonly backend = 'manual';
  readonly poller = new ManualPoller();
  time = 0;
  constructor(readonly capabilities: Capabilities = allCapabilities) {
    super();
  }
  protected override clock(): number {
    return this.time ?? 0;
  }
  protected startListen(_o: ListenOptions, _c: (s: TcpStream) => void, _d: Completion<TcpServer>): void {
    throw new UnsupportedError(this.backend, 'tcp', 'manual');
  }
  protected startConnect(_o: ConnectOptions, _d: Completion<TcpStream>): void {
    throw new UnsupportedError(this.backend, 'tcp', 'manual');
  }
  protected startServeHttp(_o: HttpServerOptions, _h: HttpHandler, _d: Completion<HttpServer>): void {
    throw new UnsupportedError(this.backend, 'http', 'manual');
  }
}

/** A loop sitting in its poll phase (a far timer keeps it alive), with the poller's record cleared. */
function polling(): { loop: ManualLoop; keepAlive: Timer; done: Promise<boolean> } {
  const loop = new ManualLoop();
  const keepAlive = loop.timer(() => undefined).start(60_000);
  const done = loop.run();
  expect(loop.isPolling()).toBe(true);
  loop.poller.calls.length = 0;
  return { loop, keepAlive, done };
}

/** run() to its end: tick the poll by hand while the loop waits in it (nothing else would). */
async function runToEnd(loop: ManualLoop, mode?: 'default' | 'once' | 'nowait'): Promise<boolean> {
  const done = loop.run(mode);
  for (let ticks = 0; loop.isPolling(); ticks++) {
    if (ticks > 1000) throw new Error('the loop did not finish');
    loop.pollTick();
  }
  return done;
}

async function finish(loop: ManualLoop, keepAlive: Timer, done: Promise<boolean>): Promise<void> {
  keepAlive.close();
  loop.pollTick();
  expect(await done).toBe(false);
  loop.close();
}

describe('kit loop: what wakes a waiting poll', () => {
  it('callSoon, stop(), a close and an idle hook each wake it: they make the poll non-blocking', async () => {
    const { loop, keepAlive, done } = polling();
    const woken: string[] = [];
    const step = (what: string, act: () => void): void => {
      loop.poller.calls.length = 0;
      act();
      if (loop.poller.calls.includes('wake')) woken.push(what);
    };
    step('callSoon', () => loop.callSoon(() => undefined));
    step('close', () => loop.timer(() => undefined).close());
    step('idle start', () => loop.idle(() => undefined).start().unref());
    step('check start', () => loop.check(() => undefined).start().unref());
    step('prepare start', () => loop.prepare(() => undefined).start().unref());
    step('a later timer', () => loop.timer(() => undefined).start(120_000).unref());
    step('an earlier timer', () => loop.timer(() => undefined).start(10).unref());
    step('stop', () => loop.stop());
    expect(woken).toEqual(['callSoon', 'close', 'idle start', 'an earlier timer', 'stop']);
    loop.pollTick();
    expect(await done).toBe(true);
    keepAlive.close();
    await runToEnd(loop, 'nowait');
  });

  it('does not wake for anything while the loop is not polling', () => {
    const loop = new ManualLoop();
    loop.callSoon(() => undefined).cancel();
    loop.stop();
    loop.timer(() => undefined).close();
    loop.idle(() => undefined).start().stop();
    loop.timer(() => undefined).start(10).stop();
    expect(loop.poller.calls).toEqual([]);
  });

  it('wakes once for a batch of deliveries, not once per event', async () => {
    const { loop, keepAlive, done } = polling();
    for (let i = 0; i < 3; i++) loop.deliver(() => undefined, undefined, i);
    expect(loop.poller.calls).toEqual(['wake']);
    loop.pollTick();
    loop.poller.calls.length = 0;
    loop.deliver(() => undefined, undefined, 'next batch');
    expect(loop.poller.calls).toEqual(['wake']);
    loop.pollTick();
    await finish(loop, keepAlive, done);
  });

  it('ends the wait when the last thing it was waiting for is gone (a timer stopped from I/O)', async () => {
    const loop = new ManualLoop();
    const timer = loop.timer(() => undefined).start(60_000);
    const done = loop.run();
    loop.deliver(() => timer.stop(), undefined, undefined);
    loop.pollTick();
    // Nothing keeps the loop alive any more: the phase ends and run() returns.
    expect(await done).toBe(false);
    expect(loop.poller.calls.at(-1)).toBe('release');
    loop.close();
  });

  it('re-arms a waiting poll only when the next due time changes', async () => {
    const { loop, keepAlive, done } = polling();
    loop.deliver(() => undefined, undefined, undefined);
    loop.pollTick();
    expect(loop.poller.calls).toEqual(['wake']);
    loop.poller.calls.length = 0;
    let later: Timer | undefined;
    loop.deliver(() => (later = loop.timer(() => undefined).start(90_000)), undefined, undefined);
    loop.pollTick();
    expect(loop.poller.calls).toEqual(['wake']); // the far timer is still the next one: no re-arm
    later?.stop();
    loop.time = 100;
    loop.poller.calls.length = 0;
    loop.deliver(() => undefined, undefined, undefined);
    loop.pollTick();
    expect(loop.poller.calls).toEqual(['wake']); // time moved, the due time did not: no re-arm
    expect(loop.isPolling()).toBe(true);
    let soon: Timer | undefined;
    loop.deliver(() => (soon = loop.timer(() => undefined).start(10).unref()), undefined, undefined);
    loop.pollTick();
    expect(loop.poller.calls).toEqual(['wake', 'wake', 'wake', 'poll 10']);
    soon?.close();
    await finish(loop, keepAlive, done);
  });
});

describe('kit loop: run() and close()', () => {
  it('only updates its time when run() finds nothing alive', async () => {
    const loop = new ManualLoop();
    loop.time = 25;
    expect(loop.now()).toBe(0);
    expect(await loop.run()).toBe(false);
    expect(loop.now()).toBe(25);
    expect(loop.poller.calls).toEqual([]);
    loop.close();
  });

  it('refuses modes the backend lacks with UnsupportedError naming the capability', () => {
    const loop = new ManualLoop({ ...allCapabilities, runOnce: false, runNowait: false });
    expect(() => loop.run('once')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED', capability: 'runOnce' }));
    expect(() => loop.run('nowait')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED', capability: 'runNowait' }));
    expect(loop.isRunning()).toBe(false);
    loop.close();
  });

  it('refuses hooks the backend lacks with UnsupportedError naming the phase', () => {
    const loop = new ManualLoop({ ...allCapabilities, idle: false, prepare: false, check: false });
    for (const kind of ['idle', 'prepare', 'check'] as const) {
      expect(() => loop[kind](() => undefined)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED', capability: kind }));
    }
    loop.close();
  });

  it('names every kind of live handle with its count when close() refuses, and the closes and operations pending', async () => {
    const loop = new ManualLoop();
    const timers = [loop.timer(() => undefined).start(10), loop.timer(() => undefined).start(20)];
    const check = loop.check(() => undefined).start();
    loop.timer(() => undefined).start(5).stop();
    loop.timer(() => undefined).close();
    expect(() => loop.close()).toThrow(
      'close() refused: handles are still live (2 timer, 1 check; 1 closing; 0 operations in flight); close them and run the loop first',
    );
    for (const handle of [...timers, check]) handle.close();
    expect(() => loop.close()).toThrow('(none; 4 closing; 0 operations in flight)');
    await runToEnd(loop);
    loop.close();
    const releases = loop.poller.calls.filter((call) => call === 'release').length;
    loop.close(); // closing twice is a no-op
    expect(loop.poller.calls.filter((call) => call === 'release')).toHaveLength(releases);
    expect(loop.poller.calls.at(-1)).toBe('release');
  });

  it('refuses close() while running, and drops pending callbacks and queued I/O when it closes', async () => {
    const loop = new ManualLoop();
    const order: string[] = [];
    loop.callSoon(() => {
      order.push('pending');
      expect(() => loop.close()).toThrow(expect.objectContaining({ code: 'ERR_LOOP_RUNNING' }));
    });
    await runToEnd(loop);
    loop.deliver(() => order.push('never delivered'), undefined, undefined);
    loop.callSoon(() => order.push('never run')).cancel();
    loop.close();
    expect(order).toEqual(['pending']);
  });
});

describe('the default error handler (reportToProcess)', () => {
  const write = process.stderr.write.bind(process.stderr);
  const listeners = process.listeners('uncaughtException');
  afterEach(() => {
    process.stderr.write = write;
    process.removeAllListeners('uncaughtException');
    for (const listener of listeners) process.on('uncaughtException', listener);
  });

  /** Capture stderr and the process's uncaughtException path (vitest's own listeners set aside). */
  function capture(): { printed: string[]; emitted: unknown[][] } {
    const printed: string[] = [];
    const emitted: unknown[][] = [];
    process.removeAllListeners('uncaughtException');
    process.stderr.write = ((text: string) => printed.push(String(text)) > 0) as typeof process.stderr.write;
    return { printed, emitted };
  }

  it('prints the phase and the stack of an Error to stderr', () => {
    const { printed } = capture();
    const error = new Error('boom');
    reportToProcess(error, 'check');
    expect(printed).toEqual([`@loop: a check callback threw (the loop goes on):\n${error.stack as string}\n`]);
  });

  it('prints something that is not an Error as a string', () => {
    const { printed } = capture();
    reportToProcess('a plain string', 'timer');
    reportToProcess(42, 'close');
    const stackless = new Error('no stack');
    stackless.stack = undefined;
    reportToProcess(stackless, 'poll');
    expect(printed).toEqual([
      '@loop: a timer callback threw (the loop goes on):\na plain string\n',
      '@loop: a close callback threw (the loop goes on):\n42\n',
      '@loop: a poll callback threw (the loop goes on):\nError: no stack\n',
    ]);
  });

  it('also hands the error to uncaughtException listeners when the process has some, wrapping a non-Error', () => {
    const { emitted } = capture();
    process.on('uncaughtException', (...args: unknown[]) => emitted.push(args));
    const error = new TypeError('typed');
    reportToProcess(error, 'pending');
    reportToProcess('text', 'idle');
    expect(emitted).toHaveLength(2);
    expect(emitted[0]).toEqual([error, 'uncaughtException']);
    expect(emitted[1]?.[0]).toBeInstanceOf(Error);
    expect((emitted[1]?.[0] as Error).message).toBe('text');
    expect(emitted[1]?.[1]).toBe('uncaughtException');
  });

  it('is what a loop uses when it is given no handler, and a throwing handler falls back to it', async () => {
    const { printed } = capture();
    const loop = new ManualLoop();
    loop.callSoon(() => {
      throw new Error('unhandled');
    });
    await runToEnd(loop);
    expect(printed.join('')).toContain('a pending callback threw');
    expect(printed.join('')).toContain('Error: unhandled');
    printed.length = 0;
    const previous = loop.setErrorHandler(() => {
      throw new Error('handler broke');
    });
    expect(previous).toBe(reportToProcess);
    loop.callSoon(() => {
      throw new Error('callback broke');
    });
    await runToEnd(loop);
    const text = printed.join('');
    expect(text.indexOf('handler broke')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('callback broke')).toBeGreaterThan(text.indexOf('handler broke'));
    loop.close();
  });
});

/** A kit loop whose operations the test completes by hand. */
class OperationLoop extends ManualLoop {
  readonly started: Completion<unknown>[] = [];
  failAfterDone = false;
  /** What startListen throws before reporting anything (nothing when undefined). */
  failure: unknown = undefined;
  constructor() {
    super({ ...allCapabilities, tcp: true, http: true, io: true });
  }
  protected override startListen(_o: ListenOptions, _c: (s: TcpStream) => void, done: Completion<TcpServer>): void {
    this.started.push(done as Completion<unknown>);
    if (this.failure !== undefined) throw this.failure;
    if (this.failAfterDone) {
      done(undefined, undefined);
      throw new Error('failed after done');
    }
  }
  protected override startServeHttp(options: HttpServerOptions, _h: HttpHandler, done: Completion<HttpServer>): void {
    if (typeof options !== 'object' || options === null) throw new EventLoopError('ERR_INVALID_ARG', 'http options must be an object');
    this.started.push(done as Completion<unknown>);
  }
}

describe('kit loop: the clock and the poll timeout', () => {
  it('reads the clock before the timers that run ahead of the first iteration', async () => {
    const loop = new ManualLoop();
    const order: string[] = [];
    loop.timer(() => order.push('timer')).start(5);
    loop.callSoon(() => order.push('pending'));
    loop.time = 10; // time passed while the loop was not running
    await runToEnd(loop);
    expect(order).toEqual(['timer', 'pending']);
    loop.close();
  });

  it('reads the clock again before the timer phase: time spent in check callbacks counts', async () => {
    const loop = new ManualLoop();
    const order: string[] = [];
    const check = loop.check((hook) => {
      hook.close();
      loop.time += 20;
      order.push('check');
    });
    check.start();
    loop.timer(() => order.push('timer')).start(15);
    const done = loop.run('once');
    loop.pollTick();
    await done;
    expect(order).toEqual(['check', 'timer']);
    await runToEnd(loop);
    loop.close();
  });

  it('runs a timer due exactly now', async () => {
    const loop = new ManualLoop();
    let fired = 0;
    loop.timer(() => fired++).start(10);
    loop.time = 10;
    await runToEnd(loop);
    expect(fired).toBe(1);
    loop.close();
  });

  it("does not block in run('once') when callbacks were pending as the iteration began", async () => {
    const loop = new ManualLoop();
    const far = loop.timer(() => undefined).start(60_000);
    loop.callSoon(() => undefined);
    const done = loop.run('once');
    expect(loop.poller.calls).toEqual(['poll 0']);
    loop.pollTick();
    expect(await done).toBe(true);
    far.close();
    await runToEnd(loop);
    loop.close();
  });

  it('does not block while an idle hook is active, and blocks again once an I/O callback stopped it', async () => {
    const loop = new ManualLoop();
    const far = loop.timer(() => undefined).start(60_000);
    const idle = loop.idle(() => undefined).start();
    const done = loop.run();
    expect(loop.poller.calls).toEqual(['poll 0']);
    loop.deliver(() => idle.stop(), undefined, undefined);
    loop.pollTick();
    // Still in the same iteration's poll phase, now waiting for the timer.
    expect(loop.poller.calls).toEqual(['poll 0', 'wake', 'poll 60000']);
    expect(loop.isPolling()).toBe(true);
    far.close();
    idle.close();
    loop.pollTick();
    expect(await done).toBe(false);
    loop.close();
  });

  it('blocks as usual after stop() on a hook that was never started', async () => {
    const loop = new ManualLoop();
    for (const kind of ['idle', 'prepare', 'check'] as const) loop[kind](() => undefined).stop();
    const far = loop.timer(() => undefined).start(60_000);
    const done = loop.run('once');
    expect(loop.poller.calls).toEqual(['poll 60000']);
    far.close();
    loop.pollTick();
    expect(await done).toBe(false);
    loop.close();
  });

  it('ends the poll phase after each batch while a prepare hook is active, so it runs once per batch', async () => {
    const { loop, keepAlive, done } = polling();
    const order: string[] = [];
    const prepare = loop.prepare(() => order.push('prepare')).start();
    loop.deliver(() => order.push('event'), undefined, undefined);
    loop.pollTick();
    expect(order).toEqual(['event', 'prepare']);
    prepare.close();
    loop.pollTick();
    await finish(loop, keepAlive, done);
  });

  it('ignores a stale tick that arrives after the poll phase ended', async () => {
    const loop = new ManualLoop();
    let checks = 0;
    const check = loop.check(() => checks++).start();
    await runToEnd(loop, 'nowait');
    expect(checks).toBe(1);
    loop.pollTick();
    expect(checks).toBe(1);
    expect(loop.isRunning()).toBe(false);
    check.close();
    await runToEnd(loop);
    loop.close();
  });
});

describe('kit loop: pending callbacks', () => {
  it('counts a cancelled callback out once, however often it is cancelled, and not after it ran', async () => {
    const loop = new ManualLoop();
    const cancelled = loop.callSoon(() => undefined);
    cancelled.cancel();
    cancelled.cancel();
    let ran = 0;
    const kept = loop.callSoon(() => ran++);
    expect(loop.alive()).toBe(true);
    await runToEnd(loop);
    expect(ran).toBe(1);
    kept.cancel(); // after it ran: a no-op
    loop.callSoon(() => ran++);
    expect(loop.alive()).toBe(true);
    await runToEnd(loop);
    expect(ran).toBe(2);
    loop.close();
  });
});

describe('kit loop: operations', () => {
  it('completes a callback-form operation once in the poll phase, and keeps the loop alive until then', async () => {
    const loop = new OperationLoop();
    const results: unknown[] = [];
    loop.listen({}, () => undefined, (error, server) => results.push(error ?? server));
    expect(loop.alive()).toBe(true);
    const done = loop.started[0] as Completion<unknown>;
    const first = { name: 'server' };
    done(undefined, first);
    done(undefined, { name: 'second completion' });
    expect(results).toEqual([]);
    await runToEnd(loop);
    expect(results).toEqual([first]);
    expect(loop.alive()).toBe(false);
    loop.close();
  });

  it('counts an operation whose start threw after completing only once', async () => {
    const loop = new OperationLoop();
    loop.failAfterDone = true;
    expect(() => loop.listen({}, () => undefined, () => undefined)).toThrow('failed after done');
    await expect(loop.listen({}, () => undefined)).resolves.toBeUndefined();
    loop.failAfterDone = false;
    await runToEnd(loop);
    const inFlight = loop.listen({}, () => undefined);
    expect(loop.alive()).toBe(true); // a miscount would have hidden this one
    expect(() => loop.close()).toThrow('(none; 0 closing; 1 operations in flight)');
    (loop.started.at(-1) as Completion<unknown>)(new EventLoopError('ERR_SOCKET', 'refused'), undefined);
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_SOCKET' });
    await runToEnd(loop);
    loop.close();
  });

  it('settles a promise-form operation once, and wakes a waiting poll when it ends', async () => {
    const loop = new OperationLoop();
    const far = loop.timer(() => undefined).start(60_000);
    const running = loop.run();
    const listening = loop.listen({}, () => undefined);
    loop.poller.calls.length = 0;
    const complete = loop.started[0] as Completion<unknown>;
    complete(undefined, 'server');
    complete(new EventLoopError('ERR_SOCKET', 'late'), undefined);
    await expect(listening).resolves.toBe('server');
    expect(loop.poller.calls).toEqual(['wake']);
    far.close();
    loop.pollTick();
    expect(await running).toBe(false);
    loop.close();
  });

  it('refuses operations on a closed loop: the callback form throws, the promise form rejects', async () => {
    const loop = new OperationLoop();
    loop.close();
    expect(() => loop.listen({}, () => undefined, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED', message: 'the loop was closed' }));
    await expect(loop.listen({}, () => undefined)).rejects.toMatchObject({ code: 'ERR_LOOP_CLOSED' });
  });

  it('throws bad options of the callback form as they are, and checks the websocket option only for an object', async () => {
    const loop = new OperationLoop();
    expect(() => loop.serveHttp(null as never, () => undefined, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: 'http options must be an object' }));
    expect(() => loop.serveHttp({ websocket: {} } as never, () => undefined, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED', capability: 'websocket', message: expect.stringContaining('this backend has no WebSocket server') }),
    );
    expect(loop.alive()).toBe(false);
    loop.close();
  });
});

describe('kit loop: argument and capability errors say what went wrong', () => {
  it('names the callback, the handler and the missing capability', async () => {
    const bare = new ManualLoop();
    expect(() => bare.callSoon(42 as never)).toThrow('callback must be a function, got number');
    expect(() => bare.timer('x' as never)).toThrow('callback must be a function, got string');
    expect(() => bare.idle(null as never)).toThrow('callback must be a function, got null');
    expect(() => bare.setErrorHandler(1 as never)).toThrow('handler must be a function, got number');
    expect(() => bare.run('sometimes' as never)).toThrow("run mode must be 'default', 'once' or 'nowait', got 'sometimes'");
    expect(() => bare.listen({}, () => undefined, () => undefined)).toThrow(expect.objectContaining({ capability: 'tcp', message: expect.stringContaining('this backend has no raw TCP') }));
    expect(() => bare.connect({ port: 1 }, () => undefined)).toThrow(expect.objectContaining({ capability: 'tcp', message: expect.stringContaining('this backend has no raw TCP') }));
    expect(() => bare.serveHttp({}, () => undefined, () => undefined)).toThrow(expect.objectContaining({ capability: 'http', message: expect.stringContaining('this backend has no HTTP server') }));
    expect(() => bare.io(3, () => undefined)).toThrow(expect.objectContaining({ capability: 'io', message: expect.stringContaining('this backend cannot watch file descriptors') }));
    expect(() => new ManualLoop({ ...allCapabilities, idle: false }).idle(() => undefined)).toThrow('this backend has no such phase');
    expect(() => new ManualLoop({ ...allCapabilities, runOnce: false }).run('once')).toThrow('this backend cannot run a single iteration');
    expect(() => new ManualLoop({ ...allCapabilities, runNowait: false }).run('nowait')).toThrow('this backend cannot poll without blocking');
    const loop = new OperationLoop();
    expect(() => loop.listen({}, 'x' as never, () => undefined)).toThrow('onConnection must be a function, got string');
    expect(() => loop.serveHttp({}, 'x' as never, () => undefined)).toThrow('handler must be a function, got string');
    expect(() => loop.listen({}, () => undefined, 'x' as never)).toThrow('callback must be a function, got string');
    bare.close();
    loop.close();
  });

  it('accepts fds from 0 to 2^31-1 and refuses others, naming the fd; io without a watcher implementation is unsupported', () => {
    const loop = new OperationLoop();
    for (const fd of [0, 0x7fffffff]) {
      expect(() => loop.io(fd, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED', message: expect.stringContaining('does not implement createIoWatcher') }));
    }
    for (const fd of [-1, 0x80000000, 1.5]) {
      expect(() => loop.io(fd, () => undefined)).toThrow(`fd must be a non-negative integer, got ${fd}`);
    }
    expect(() => loop.io(3, 'x' as never)).toThrow('callback must be a function, got string');
    loop.close();
  });

  it('refuses new hooks, timers and watchers once closed', () => {
    const loop = new OperationLoop();
    loop.close();
    for (const make of [() => loop.idle(() => undefined), () => loop.prepare(() => undefined), () => loop.check(() => undefined), () => loop.io(3, () => undefined)]) {
      expect(make).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED' }));
    }
  });

  it('names the timer value it refuses', () => {
    const loop = new ManualLoop();
    const timer = loop.timer(() => undefined);
    expect(() => timer.start(-1)).toThrow(`timeout must be a finite number in [0, ${Number.MAX_SAFE_INTEGER}], got -1`);
    expect(() => timer.start(1, -1)).toThrow(`repeat must be a finite number in [0, ${Number.MAX_SAFE_INTEGER}], got -1`);
    expect(() => (timer.repeat = Number.NaN)).toThrow(`repeat must be a finite number in [0, ${Number.MAX_SAFE_INTEGER}], got NaN`);
    loop.close();
  });
});

describe('kit loop: what its refusals say', () => {
  it('says why run() and close() refuse while the loop runs', async () => {
    const loop = new ManualLoop();
    loop.callSoon(() => {
      expect(() => loop.run()).toThrow(expect.objectContaining({ code: 'ERR_LOOP_RUNNING', message: 'run() is not reentrant: the loop is already running' }));
      expect(() => loop.close()).toThrow(expect.objectContaining({ code: 'ERR_LOOP_RUNNING', message: 'close() was called while the loop is running' }));
    });
    await runToEnd(loop);
    loop.close();
  });

  it("names the capability 'io' when a backend declares io without a watcher implementation", () => {
    const loop = new OperationLoop();
    expect(() => loop.io(3, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED', backend: 'manual', capability: 'io' }));
    loop.close();
  });
});

describe('kit loop: more of run()', () => {
  it('returns before the first iteration when a timer run ahead of it calls stop(): no pending callback or hook runs', async () => {
    const loop = new ManualLoop();
    const order: string[] = [];
    loop.timer(() => {
      order.push('timer');
      loop.stop();
    }).start(0);
    const prepare = loop.prepare(() => order.push('prepare')).start().unref();
    loop.callSoon(() => order.push('pending'));
    expect(await loop.run()).toBe(true);
    expect(order).toEqual(['timer']);
    expect(loop.isRunning()).toBe(false);
    expect(loop.poller.calls).toEqual(['release']);
    // The stop was used up: the next run iterates.
    await runToEnd(loop);
    expect(order).toEqual(['timer', 'pending', 'prepare']);
    prepare.close();
    await runToEnd(loop);
    loop.close();
  });

  it("keeps the time it cached when run('once') starts on a live loop (libuv reads the clock after the poll), so the poll waits the timer's whole timeout", async () => {
    const loop = new ManualLoop();
    const seen: number[] = [];
    const timer = loop.timer(() => undefined).start(100);
    const prepare = loop.prepare(() => seen.push(loop.now())).start().unref();
    loop.time = 40; // time passed outside run()
    const done = loop.run('once');
    expect(seen).toEqual([0]);
    expect(loop.poller.calls).toEqual(['poll 100']);
    loop.time = 100;
    loop.pollTick();
    expect(await done).toBe(false);
    expect(timer.isActive()).toBe(false);
    prepare.close();
    await runToEnd(loop);
    loop.close();
  });

  it("runs a backend's pollIo() once per poll tick, after the I/O queued with deliver() and before the poll phase ends", async () => {
    class PollingLoop extends ManualLoop {
      readonly order: string[] = [];
      protected override pollIo(): void {
        this.order.push(`pollIo at ${this.now()}`);
      }
    }
    const loop = new PollingLoop();
    const check = loop.check(() => loop.order.push('check')).start().unref();
    const far = loop.timer(() => undefined).start(60_000);
    const done = loop.run();
    loop.deliver((what) => loop.order.push(what), undefined, 'queued event');
    loop.time = 5;
    loop.pollTick();
    expect(loop.order).toEqual(['queued event', 'pollIo at 5', 'check']);
    far.close();
    loop.pollTick();
    expect(await done).toBe(false);
    expect(loop.order).toEqual(['queued event', 'pollIo at 5', 'check', 'pollIo at 5', 'check']);
    check.close();
    await runToEnd(loop);
    loop.close();
  });
});

describe('kit loop: more of operations', () => {
  it('rejects a promise-form operation whose start threw something else than an EventLoopError with ERR_INVALID_ARG, keeping it as the cause', async () => {
    const loop = new OperationLoop();
    const failure = new RangeError('bad address');
    loop.failure = failure;
    const error = await loop.listen({}, () => undefined).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(EventLoopError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'RangeError: bad address' });
    expect((error as Error).cause).toBe(failure);
    const own = new EventLoopError('ERR_SOCKET', 'refused');
    loop.failure = own;
    await expect(loop.listen({}, () => undefined)).rejects.toBe(own);
    expect(loop.alive()).toBe(false);
    loop.close();
  });

  it('ignores a completion reported after the callback-form start threw: the callback never runs and nothing stays alive', async () => {
    const loop = new OperationLoop();
    loop.failure = new EventLoopError('ERR_INVALID_ARG', 'bad options');
    const results: unknown[] = [];
    expect(() => loop.listen({}, () => undefined, (error, server) => results.push(error ?? server))).toThrow('bad options');
    expect(loop.alive()).toBe(false);
    (loop.started[0] as Completion<unknown>)(undefined, 'late server');
    loop.callSoon(() => undefined); // one iteration, with a poll phase that would run a queued completion
    await runToEnd(loop);
    expect(results).toEqual([]);
    expect(loop.alive()).toBe(false);
    loop.close();
  });

  it('still delivers, once, a completion reported before the callback-form start threw', async () => {
    const loop = new OperationLoop();
    loop.failAfterDone = true;
    const results: unknown[] = [];
    expect(() => loop.listen({}, () => undefined, (error, server) => results.push(error ?? server ?? 'completed'))).toThrow('failed after done');
    expect(loop.alive()).toBe(true);
    await runToEnd(loop);
    expect(results).toEqual(['completed']);
    expect(loop.alive()).toBe(false);
    loop.close();
  });

  it('does not wake the poller when an operation ends while the loop is not polling', async () => {
    const loop = new OperationLoop();
    const listening = loop.listen({}, () => undefined);
    (loop.started[0] as Completion<unknown>)(undefined, 'server');
    await expect(listening).resolves.toBe('server');
    expect(loop.poller.calls).toEqual([]);
    loop.close();
  });

  it("leaves missing serveHttp options to the backend's own check instead of reading their websocket field", () => {
    const loop = new OperationLoop();
    expect(() => loop.serveHttp(undefined as never, () => undefined, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG', message: 'http options must be an object' }),
    );
    expect(loop.alive()).toBe(false);
    loop.close();
  });
});
