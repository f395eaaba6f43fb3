import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { UnsupportedError } from '../errors.js';
import type { Completion, HttpHandler, HttpServer, HttpServerOptions, Timer } from '../index.js';
import type { ConnectOptions, ListenOptions, TcpServer, TcpStream } from '../stream.js';
import { LoopBase, type Poller } from './loop-base.js';

/** A poller driven by hand: it records what the loop asks of it, and the test calls pollTick. */
class ManualPoller implements Poller {
  readonly calls: string[] = [];
  woken = false;
  timeout = Number.NaN;
  poll(timeout: number): void {
    this.calls.push(`poll ${timeout}`);
    this.timeout = timeout;
  }
  wake(): void {
    this.calls.push('wake');
    this.woken = true;
  }
  release(): void {
    this.calls.push('release');
  }
}

const capabilities: Capabilities = {
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

/** A kit loop on the manual poller and a clock that the test moves and that counts its reads. */
class ManualLoop extends LoopBase {
  readonly backend = 'manual';
  readonly capabilities = capabilities;
  readonly poller = new ManualPoller();
  time = 0;
  clockReads = 0;

  protected override clock(): number {
    this.clockReads++;
    return this.time ?? 0; // the first read comes from the kit's constructor, before `time` is set
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

/** Start `run()` with a far timer keeping the loop alive, so the loop sits in its poll phase. */
function polling(): { loop: ManualLoop; keepAlive: Timer; done: Promise<boolean> } {
  const loop = new ManualLoop();
  const keepAlive = loop.timer(() => undefined).start(60_000);
  const done = loop.run();
  expect(loop.isPolling()).toBe(true);
  return { loop, keepAlive, done };
}

async function finish(loop: ManualLoop, keepAlive: Timer, done: Promise<boolean>): Promise<void> {
  keepAlive.close();
  loop.pollTick();
  expect(await done).toBe(false);
  loop.close();
}

describe('kit loop: I/O delivery', () => {
  it('never runs a delivered event inside the call that delivers it, even while polling: the next tick runs it', async () => {
    const { loop, keepAlive, done } = polling();
    const order: string[] = [];
    loop.poller.woken = false;
    loop.deliver((what: string) => order.push(what), undefined, 'event');
    expect(order).toEqual([]);
    expect(loop.poller.woken).toBe(true);
    loop.pollTick();
    expect(order).toEqual(['event']);
    await finish(loop, keepAlive, done);
  });

  it('runs an event delivered from inside an I/O callback in a later tick of the same poll phase', async () => {
    const { loop, keepAlive, done } = polling();
    const order: string[] = [];
    loop.deliver(() => {
      order.push('first');
      loop.deliver(() => order.push('second'), undefined, undefined);
      order.push('first returns');
    }, undefined, undefined);
    loop.pollTick();
    expect(order).toEqual(['first', 'first returns']);
    expect(loop.isPolling()).toBe(true);
    loop.pollTick();
    expect(order).toEqual(['first', 'first returns', 'second']);
    await finish(loop, keepAlive, done);
  });

  it('reads the clock once per batch of events, and gives every event of the batch that time', async () => {
    const { loop, keepAlive, done } = polling();
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) loop.deliver(() => seen.push(loop.now()), undefined, undefined);
    loop.time = 42;
    const readsBefore = loop.clockReads;
    loop.pollTick();
    expect(loop.clockReads - readsBefore).toBe(1);
    expect(seen).toEqual([42, 42, 42]);
    await finish(loop, keepAlive, done);
  });

  it('asks for a wake-up before poll() when I/O was queued while the loop was not running: the wake precedes the poll', async () => {
    const loop = new ManualLoop();
    const keepAlive = loop.timer(() => undefined).start(60_000);
    const order: string[] = [];
    loop.deliver(() => order.push('early event'), undefined, undefined);
    expect(order).toEqual([]);
    const done = loop.run();
    expect(loop.poller.calls).toEqual(['wake', 'poll 60000']);
    loop.pollTick();
    expect(order).toEqual(['early event']);
    await finish(loop, keepAlive, done);
  });

  it('stays in one poll phase across batches in default mode while nothing else is due, and re-arms only when the next due time changes', async () => {
    const { loop, keepAlive, done } = polling();
    loop.poller.calls.length = 0;
    loop.deliver(() => undefined, undefined, undefined);
    loop.pollTick();
    expect(loop.isPolling()).toBe(true);
    expect(loop.poller.calls).toEqual(['wake']);
    let soon: Timer | undefined;
    loop.deliver(() => (soon = loop.timer(() => undefined).start(10)), undefined, undefined);
    loop.pollTick();
    // The new timer is due before the far one: the wait is re-armed for it.
    expect(loop.poller.calls).toEqual(['wake', 'wake', 'wake', 'poll 10']);
    soon?.close();
    await finish(loop, keepAlive, done);
  });

  it('ends the poll phase after each batch while a check hook is active, so the hook runs once per batch', async () => {
    const { loop, keepAlive, done } = polling();
    const order: string[] = [];
    const check = loop.check(() => order.push('check')).start();
    loop.deliver(() => order.push('event'), undefined, undefined);
    loop.pollTick();
    expect(order).toEqual(['event', 'check']);
    check.close();
    loop.pollTick();
    await finish(loop, keepAlive, done);
  });
});

describe('kit loop: timers', () => {
  it('starts and stops timers without allocating (per-request timeouts start and stop one per request)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const loop = new ManualLoop();
    const timers = Array.from({ length: 1000 }, () => loop.timer(() => undefined));
    const churn = (rounds: number): void => {
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < timers.length; i++) (timers[i] as Timer).start(i, 0);
        for (let i = 0; i < timers.length; i += 2) (timers[i] as Timer).stop();
        for (let i = 1; i < timers.length; i += 2) (timers[i] as Timer).stop();
      }
    };
    // Warm up first: it grows the heap's backing array once, and lets the JIT compile (its code
    // and feedback are allocations too, but not per start).
    churn(100);
    gc();
    const before = process.memoryUsage().heapUsed;
    churn(200);
    const grown = process.memoryUsage().heapUsed - before;
    // 200,000 start/stop pairs: even 16 bytes each would be over 3 MB.
    expect(grown).toBeLessThan(512 * 1024);
    loop.close();
  });
});
