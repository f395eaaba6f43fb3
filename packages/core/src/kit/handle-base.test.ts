// The handle state machine every kit handle shares (libev's watcher states, libuv's handles):
// the counts it keeps for the loop, ref mirroring, and closes started by the user or by the host.
import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { UnsupportedError } from '../errors.js';
import type { Completion, HttpHandler, HttpServer, HttpServerOptions } from '../index.js';
import type { ConnectOptions, ListenOptions, TcpServer, TcpStream } from '../stream.js';
import { HandleBase } from './handle-base.js';
import { LoopBase, type Poller } from './loop-base.js';

/** A poller whose every wait ends at once: the tests here are about handles, not about waiting. */
class ImmediatePoller implements Poller {
  constructor(private readonly loop: () => LoopBase) {}
  poll(): void {
    setImmediate(() => this.loop().pollTick());
  }
  wake(): void {
    setImmediate(() => this.loop().pollTick());
  }
  release(): void {}
}

class TestLoop extends LoopBase {
  readonly backend = 'test';
  readonly capabilities = { runOnce: true, runNowait: true, idle: true, prepare: true, check: true } as Capabilities;
  readonly poller: Poller = new ImmediatePoller(() => this);
  protected startListen(_o: ListenOptions, _c: (s: TcpStream) => void, _d: Completion<TcpServer>): void {
    throw new UnsupportedError(this.backend, 'tcp', 'test');
  }
  protected startConnect(_o: ConnectOptions, _d: Completion<TcpStream>): void {
    throw new UnsupportedError(this.backend, 'tcp', 'test');
  }
  protected startServeHttp(_o: HttpServerOptions, _h: HttpHandler, _d: Completion<HttpServer>): void {
    throw new UnsupportedError(this.backend, 'http', 'test');
  }
}

/** A handle whose host side the test drives: activate, deactivate, and a close by the host. */
class TestHandle extends HandleBase {
  readonly refs: boolean[] = [];
  readonly events: string[] = [];
  constructor(
    loop: LoopBase,
    readonly kind: string,
  ) {
    super(loop);
  }
  open(): this {
    this.activate();
    return this;
  }
  idle(): this {
    this.deactivate();
    return this;
  }
  hostClosed(): void {
    this.closedByHost();
  }
  start(): this {
    this.assertOpen();
    return this.open();
  }
  protected override refChanged(referenced: boolean): void {
    this.refs.push(referenced);
  }
  protected override closed(): void {
    this.events.push('closed');
  }
}

describe('handle state', () => {
  it('counts active handles by kind for close(), and referenced ones for alive()', () => {
    const loop = new TestLoop();
    const a = new TestHandle(loop, 'stream').open();
    const b = new TestHandle(loop, 'stream').open().open();
    const c = new TestHandle(loop, 'server').open().unref();
    expect([...loop.liveHandles]).toEqual([
      ['stream', 2],
      ['server', 1],
    ]);
    expect(loop.liveCount).toBe(3);
    expect(loop.refCount).toBe(2);
    b.idle().idle();
    c.idle();
    expect(loop.liveHandles.get('stream')).toBe(1);
    expect(loop.liveHandles.get('server')).toBe(0);
    expect(loop.liveCount).toBe(1);
    expect(loop.refCount).toBe(1);
    a.unref();
    expect(loop.refCount).toBe(0);
    a.ref();
    expect(loop.refCount).toBe(1);
    a.idle();
    expect(loop.refCount).toBe(0);
    expect(loop.liveCount).toBe(0);
    loop.close();
  });

  it('mirrors ref changes to the host once per change, active or not', () => {
    const loop = new TestLoop();
    const handle = new TestHandle(loop, 'stream');
    handle.unref().unref().ref().ref().unref();
    expect(handle.refs).toEqual([false, true, false]);
    expect(handle.hasRef()).toBe(false);
    expect(loop.refCount).toBe(0);
    handle.open();
    expect(loop.refCount).toBe(0);
    handle.ref();
    expect(loop.refCount).toBe(1);
    handle.idle();
    expect(loop.refCount).toBe(0);
    loop.close();
  });

  it('runs the first close callback once, in the close phase, and ignores a second close', async () => {
    const loop = new TestLoop();
    const order: string[] = [];
    const handle = new TestHandle(loop, 'stream').open();
    handle.close(() => order.push('first onClose'));
    handle.close(() => order.push('second onClose'));
    expect(handle.isClosing()).toBe(true);
    expect(handle.isActive()).toBe(false);
    expect(order).toEqual([]);
    expect(loop.closingCount).toBe(1);
    loop.callSoon(() => order.push('pending'));
    await loop.run();
    expect(order).toEqual(['pending', 'first onClose']);
    expect(handle.events).toEqual(['closed']);
    expect(loop.closingCount).toBe(0);
    expect(() => handle.start()).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CLOSED', message: 'this stream was closed and cannot be started again' }));
    loop.close();
  });

  it('still runs onClose in a close phase when close() comes after the host closed the handle', async () => {
    const loop = new TestLoop();
    const order: string[] = [];
    const handle = new TestHandle(loop, 'stream').open();
    handle.hostClosed();
    expect(handle.isClosing()).toBe(true);
    expect(loop.liveCount).toBe(0);
    await loop.run();
    expect(handle.events).toEqual(['closed']);
    handle.close(() => order.push('onClose after the host closed it'));
    expect(order).toEqual([]);
    expect(loop.alive()).toBe(true);
    await loop.run();
    expect(order).toEqual(['onClose after the host closed it']);
    expect(handle.events).toEqual(['closed']); // the close event ran once, with the host's close
    loop.close();
  });

  it('runs onClose once with the host close when close() was called while the host was closing it', async () => {
    const loop = new TestLoop();
    const order: string[] = [];
    const handle = new TestHandle(loop, 'stream').open();
    handle.hostClosed();
    handle.close(() => order.push('onClose'));
    await loop.run();
    expect(order).toEqual(['onClose']);
    expect(handle.events).toEqual(['closed']);
    expect(loop.closingCount).toBe(0);
    loop.close();
  });

  it('counts a handle the host is closing as one closing handle, even after close() was called on it too', async () => {
    const loop = new TestLoop();
    const handle = new TestHandle(loop, 'stream').open();
    handle.hostClosed();
    handle.close(() => undefined);
    expect(loop.closingCount).toBe(1);
    expect(() => loop.close()).toThrow('(none; 1 closing; 0 operations in flight)');
    await loop.run();
    expect(loop.closingCount).toBe(0);
    loop.close();
  });
});
