// Edges of the kit's phase machine that the conformance suite cannot see from outside: when the
// poll is woken, what close() names, the default error handler. Found by mutation testing (see
// CONTRIBUTING.md). The loop here runs on a poller driven by hand and a clock the test moves.
import { afterEach, describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { UnsupportedError } from '../errors.js';
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
    loop.close(); // closing twice is a no-op
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
