import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { EventLoopError, SocketError, UnsupportedError } from '../errors.js';
import type { HttpServer } from '../http.js';
import { IoEvents, type Completion, type IoWatcher, type Phase } from '../loop.js';
import type { TcpServer, TcpStream } from '../stream.js';
import { openFdCount } from '../testing/helpers.js';
import { HostPoller } from './host-poller.js';
import { LoopBase } from './loop-base.js';
import { UvPoll, type KoffiModule } from './uv-poll.js';

const { READABLE, WRITABLE } = IoEvents;

const capabilities: Capabilities = {
  runOnce: true,
  runNowait: true,
  idle: true,
  prepare: true,
  check: true,
  io: true,
  tcp: false,
  reusePort: false,
  http: false,
  httpPipelining: false,
  httpBadRequest: false,
  httpCloseIdle: false,
  httpLimits: { maxHeaderSize: false, maxHeaderCount: false, maxUrlLength: false, maxBodySize: false, headersTimeout: false, keepAliveTimeout: false },
  websocket: false,
};

const uvPoll = UvPoll.bind(koffi);

/** The smallest Node-hosted kit loop: phases, HostPoller, and fd watchers from uv-poll. */
class UvLoop extends LoopBase {
  readonly backend = 'uv-poll-test';
  readonly capabilities = capabilities;
  protected readonly poller: HostPoller = new HostPoller(this);
  readonly errors: { error: unknown; phase: Phase }[];

  constructor() {
    const errors: { error: unknown; phase: Phase }[] = [];
    super((error, phase) => errors.push({ error, phase }));
    this.errors = errors;
  }

  protected override createIoWatcher(fd: number, callback: (watcher: IoWatcher, events: number) => void): IoWatcher {
    return uvPoll.watch(this, fd, callback);
  }

  protected startListen(_o: unknown, _c: unknown, _done: Completion<TcpServer>): void {
    throw new UnsupportedError(this.backend, 'tcp', 'test loop');
  }

  protected startConnect(_o: unknown, _done: Completion<TcpStream>): void {
    throw new UnsupportedError(this.backend, 'tcp', 'test loop');
  }

  protected startServeHttp(_o: unknown, _h: unknown, _done: Completion<HttpServer>): void {
    throw new UnsupportedError(this.backend, 'http', 'test loop');
  }
}

const libc = koffi.load(null);
const dup2 = libc.func('int dup2(int oldfd, int newfd)');

let dir = '';
let fdsBefore = 0;
let fifoCount = 0;

/** A new FIFO in this test's directory; `flags` default to read-write, non-blocking. */
function fifo(): string {
  const path = join(dir, `fifo-${fifoCount++}`);
  execFileSync('mkfifo', [path]);
  return path;
}

function openFifo(path = fifo(), flags = constants.O_RDWR | constants.O_NONBLOCK): number {
  return openSync(path, flags);
}

/** Let Node's own loop turn a few times (the kit loop is not running meanwhile). */
function nodeTurns(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

beforeEach(() => {
  fdsBefore = openFdCount();
  dir = mkdtempSync(join(tmpdir(), 'loop-uv-poll-'));
});

afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  expect(uvPoll.stats()).toMatchObject({ handles: 0, watchedFds: 0 });
  await new Promise((resolve) => setImmediate(resolve));
  expect(openFdCount()).toBe(fdsBefore);
});

describe('UvPoll: fd watchers on the libuv loop Node runs', () => {
  it('accepts koffi itself as its KoffiModule, and binds once per koffi module', () => {
    const module: KoffiModule = koffi;
    expect(UvPoll.bind(module)).toBe(uvPoll);
  });

  it('refuses a process without libuv symbols with ERR_UNSUPPORTED, naming the cause', () => {
    const missing: KoffiModule = {
      ...koffi,
      load: () => ({
        func: (definition: string) => {
          throw new Error(`Cannot find function in '${definition}'`);
        },
      }),
    };
    expect(() => UvPoll.bind(missing)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED', message: expect.stringContaining('Cannot find function') }));
  });

  it('holds no uv handle until its first start, and none after its close has run', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    expect(uvPoll.stats()).toMatchObject({ handles: 0, watchedFds: 1 });
    watcher.start(READABLE);
    expect(uvPoll.stats()).toMatchObject({ handles: 1, watchedFds: 1, callbacksRegistered: true });
    const order: string[] = [];
    watcher.close(() => order.push('closed'));
    expect(uvPoll.stats().watchedFds).toBe(0); // the fd is free for a new watcher at once
    expect(uvPoll.stats().handles).toBe(1); // the memory waits for libuv's close callback
    await loop.run();
    expect(order).toEqual(['closed']);
    expect(uvPoll.stats().handles).toBe(0);
    loop.close();
    closeSync(fd);
  });

  it('unregisters its koffi callbacks once the last uv handle has closed, and registers them again for the next', async () => {
    const callbacksBefore = koffi.stats().callbacks;
    const fd = openFifo();
    const loop = new UvLoop();
    const first = loop.io(fd, () => undefined).start(WRITABLE);
    expect(koffi.stats().callbacks).toBe(callbacksBefore + 2);
    first.close();
    await loop.run();
    await new Promise((resolve) => setImmediate(resolve));
    expect(uvPoll.stats().callbacksRegistered).toBe(false);
    expect(koffi.stats().callbacks).toBe(callbacksBefore);
    const events: number[] = [];
    loop
      .io(fd, (w, ready) => {
        events.push(ready);
        w.close();
      })
      .start(WRITABLE);
    await loop.run();
    expect(events).toEqual([WRITABLE]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(koffi.stats().callbacks).toBe(callbacksBefore);
    loop.close();
    closeSync(fd);
  });

  it('parks its uv_poll while the loop is not polling: one uv event while stopped, not one per Node iteration', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const read: string[] = [];
    const watcher = loop.io(fd, (w, events) => {
      const buffer = Buffer.alloc(64);
      read.push(`${events} ${buffer.toString('latin1', 0, readSync(fd, buffer))}`);
      w.close();
    });
    watcher.start(READABLE);
    writeSync(fd, 'still there');
    const before = uvPoll.stats().uvEvents;
    await nodeTurns(100);
    expect(uvPoll.stats().uvEvents - before).toBe(1);
    expect(read).toEqual([]);
    await loop.run();
    expect(read).toEqual([`${READABLE} still there`]);
    loop.close();
    closeSync(fd);
  });

  it('keeps a parked watcher level-triggered: after the delivery it reports the unread fd again', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    let calls = 0;
    const watcher = loop.io(fd, (w) => {
      if (++calls === 3) w.close(); // never reads: readiness must come back after each delivery
    });
    watcher.start(READABLE);
    writeSync(fd, 'unread');
    await nodeTurns(20);
    await loop.run();
    expect(calls).toBe(3);
    loop.close();
    closeSync(fd);
  });

  it('delivers an fd error as every watched event, so the write sees it: a FIFO write end whose reader left', async () => {
    const path = fifo();
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(reader); // POLLERR on the write end; libuv reports status UV_EBADF and stops its poll
    const loop = new UvLoop();
    const seen: string[] = [];
    loop
      .io(writer, (w, events) => {
        let outcome = 'written';
        try {
          writeSync(writer, 'x');
        } catch (error) {
          outcome = String((error as NodeJS.ErrnoException).code);
        }
        // READABLE too: a write-only end is never readable, so this is the error mapping, not readiness.
        seen.push(`${events} ${outcome}`);
        if (seen.length === 2) w.close(); // the poll was restarted after the first delivery
      })
      .start(READABLE | WRITABLE);
    await loop.run();
    expect(seen).toEqual([`${READABLE | WRITABLE} EPIPE`, `${READABLE | WRITABLE} EPIPE`]);
    loop.close();
    closeSync(writer);
  });

  it('refuses an fd Node itself watches (a reading net.Socket) with SocketError EEXIST', async () => {
    const server: Server = createServer((socket) => socket.on('data', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.on('connect', resolve));
    client.on('data', () => undefined);
    const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    let error: unknown;
    try {
      watcher.start(READABLE);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SocketError);
    expect(error).toMatchObject({ code: 'ERR_SOCKET', errno: 'EEXIST', message: expect.stringContaining('Node itself watches it') });
    expect((error as SocketError).cause).toMatchObject({ code: 'EEXIST', syscall: 'uv_poll_init' });
    expect(watcher.isActive()).toBe(false);
    watcher.close();
    await loop.run();
    loop.close();
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("maps libuv's own refusal to a SocketError: /dev/null cannot be polled (uv_poll_init EPERM)", async () => {
    const fd = openSync('/dev/null', 'r');
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    let error: unknown;
    try {
      watcher.start(READABLE);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SocketError);
    expect(error).toMatchObject({ code: 'ERR_SOCKET', errno: 'EPERM', cause: { syscall: 'uv_poll_init', errno: -1 } });
    expect(uvPoll.stats().handles).toBe(0); // the memory of the refused handle is freed at once
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });

  it('refuses to restart on an fd that was closed, or whose number now names another file, instead of letting libuv abort', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined).start(READABLE);
    watcher.stop();
    const other = openFifo();
    closeSync(fd);
    expect(() => watcher.start(READABLE)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET', errno: 'EBADF' }));
    // The number comes back naming another FIFO (a pollable one: only the identity check refuses it).
    expect(dup2(other, fd)).toBe(fd);
    closeSync(other);
    const error = thrown(() => watcher.start(WRITABLE));
    expect(error).toMatchObject({ code: 'ERR_SOCKET', errno: 'EBADF', message: expect.stringContaining('names another file') });
    expect((error as Error).cause).toMatchObject({ code: 'EBADF', message: 'the fd names another file than at its first start' });
    expect(watcher.isActive()).toBe(false);
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });

  it('stops a parked watcher whose fd was closed meanwhile and reports the error, instead of restarting it', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const seen: number[] = [];
    const watcher = loop.io(fd, (_w, events) => seen.push(events)).start(READABLE);
    writeSync(fd, 'x');
    await nodeTurns(20); // the event arrives while the loop is not running: the watcher parks
    closeSync(fd); // a user error: the fd is closed under a started watcher
    expect(await loop.run()).toBe(false);
    expect(seen).toEqual([READABLE]);
    expect(watcher.isActive()).toBe(false);
    expect(loop.errors).toHaveLength(1);
    expect(loop.errors[0]).toMatchObject({ phase: 'poll', error: { code: 'ERR_SOCKET', errno: 'EBADF' } });
    watcher.close();
    await loop.run();
    loop.close();
  });

  it('shares one fd registry between the loops of a thread: libuv polls an fd once', async () => {
    const fd = openFifo();
    const first = new UvLoop();
    const second = new UvLoop();
    const watcher = first.io(fd, () => undefined);
    expect(() => second.io(fd, () => undefined)).toThrow(EventLoopError);
    watcher.close();
    second.io(fd, () => undefined).close();
    await first.run();
    await second.run();
    first.close();
    second.close();
    closeSync(fd);
  });

  it('throws ERR_LOOP_CLOSED from start() once the loop is closed', () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    loop.close();
    expect(() => watcher.start(READABLE)).toThrow(expect.objectContaining({ code: 'ERR_LOOP_CLOSED' }));
    watcher.close(); // frees the fd's slot; nothing native was allocated
    closeSync(fd);
  });
});

/** koffi, but `load(null)` answers the functions `bind()` checks with the given values. */
function koffiAnswering(answers: { status?: number; loop?: unknown; typeName?: string; size?: number }): KoffiModule {
  return {
    ...koffi,
    load: () => ({
      func: (definition: string) => {
        if (definition.includes('napi_get_uv_event_loop')) {
          return (_env: unknown, out: unknown[]) => {
            out[0] = 'loop' in answers ? answers.loop : 1;
            return answers.status ?? 0;
          };
        }
        if (definition.includes('uv_handle_type_name')) return () => answers.typeName ?? 'poll';
        if (definition.includes('uv_handle_size')) return () => answers.size ?? 64;
        return () => 0;
      },
    }),
  };
}

/** koffi with its native memory counted: what was allocated, and what freed. */
function countingKoffi(): { module: KoffiModule; allocated: unknown[]; freed: unknown[] } {
  const allocated: unknown[] = [];
  const freed: unknown[] = [];
  const module: KoffiModule = {
    ...koffi,
    alloc: (type: string, length: number) => {
      const pointer = koffi.alloc(type, length);
      allocated.push(pointer);
      return pointer;
    },
    free: (pointer: unknown) => {
      freed.push(pointer);
      koffi.free(pointer);
    },
  };
  return { module, allocated, freed };
}

/** koffi whose `uv_poll_start` fails with `status` (a negative errno), all else real. */
function koffiFailingStart(status: number): KoffiModule {
  return {
    ...koffi,
    load: () => {
      const lib = koffi.load(null);
      return { func: (definition: string) => (definition.includes('uv_poll_start') ? () => status : lib.func(definition)) };
    },
  };
}

const hasRef = libc.func('int uv_has_ref(void *handle)');

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe("UvPoll.bind(): libuv's functions are checked before use", () => {
  it('refuses a failed napi_get_uv_event_loop, a null loop, a handle type that is not poll and an implausible size, naming which', () => {
    const cases: [Parameters<typeof koffiAnswering>[0], string][] = [
      [{ status: 9 }, 'napi_get_uv_event_loop failed with status 9'],
      [{ loop: null }, 'napi_get_uv_event_loop failed with status 0'],
      [{ typeName: 'timer' }, "handle type 8 is 'timer', not 'poll'"],
      [{ size: 15 }, 'implausible uv_poll_t size 15'],
      [{ size: 4097 }, 'implausible uv_poll_t size 4097'],
    ];
    for (const [answers, why] of cases) {
      const error = thrown(() => UvPoll.bind(koffiAnswering(answers)));
      expect(error).toBeInstanceOf(EventLoopError);
      expect(error).toMatchObject({ code: 'ERR_UNSUPPORTED', message: `libuv's uv_poll is not reachable through koffi: ${why}` });
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(((error as Error).cause as Error).message).toBe(why);
    }
  });

  it('accepts uv_poll_t sizes from 16 to 4096 bytes', () => {
    expect(UvPoll.bind(koffiAnswering({ size: 16 }))).toBeInstanceOf(UvPoll);
    expect(UvPoll.bind(koffiAnswering({ size: 4096 }))).toBeInstanceOf(UvPoll);
  });
});

describe('UvPoll: native memory, references and callbacks', () => {
  it('frees the memory of every uv handle: a refused one at once, a closed one in its close callback', async () => {
    const { module, allocated, freed } = countingKoffi();
    const poll = UvPoll.bind(module);
    const loop = new UvLoop();
    const devNull = openSync('/dev/null', 'r');
    const refused = poll.watch(loop, devNull, () => undefined);
    expect(() => refused.start(READABLE)).toThrow(SocketError);
    expect(allocated).toHaveLength(1);
    expect(freed).toEqual(allocated);
    const fd = openFifo();
    const watcher = poll.watch(loop, fd, () => undefined).start(READABLE);
    expect(allocated).toHaveLength(2);
    watcher.close();
    refused.close();
    expect(freed).toHaveLength(1); // libuv still owns the memory until its close callback
    await loop.run();
    expect(freed).toEqual(allocated);
    expect(poll.stats()).toMatchObject({ handles: 0, watchedFds: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    loop.close();
    closeSync(fd);
    closeSync(devNull);
  });

  it('unreferences its uv handles, so that a started watcher never keeps Node itself alive', async () => {
    const { module, allocated } = countingKoffi();
    const poll = UvPoll.bind(module);
    const loop = new UvLoop();
    const fd = openFifo();
    const watcher = poll.watch(loop, fd, () => undefined).start(READABLE);
    expect(allocated).toHaveLength(1);
    expect(hasRef(allocated[0])).toBe(0);
    watcher.close();
    await loop.run();
    await new Promise((resolve) => setImmediate(resolve));
    loop.close();
    closeSync(fd);
  });

  it('registers its two koffi callbacks once for every watcher, not once per uv handle', async () => {
    const callbacksBefore = koffi.stats().callbacks;
    const loop = new UvLoop();
    const fds = [openFifo(), openFifo(), openFifo()];
    const watchers = fds.map((fd) => loop.io(fd, () => undefined).start(READABLE));
    expect(koffi.stats().callbacks).toBe(callbacksBefore + 2);
    for (const watcher of watchers) watcher.close();
    await loop.run();
    await new Promise((resolve) => setImmediate(resolve));
    expect(koffi.stats().callbacks).toBe(callbacksBefore);
    loop.close();
    for (const fd of fds) closeSync(fd);
  });

  it('unregisters the callbacks after a refused start that left no uv handle, but keeps them for a watcher started right after', async () => {
    const callbacksBefore = koffi.stats().callbacks;
    const loop = new UvLoop();
    const devNull = openSync('/dev/null', 'r');
    const refused = loop.io(devNull, () => undefined);
    expect(() => refused.start(READABLE)).toThrow(SocketError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(uvPoll.stats().callbacksRegistered).toBe(false);
    expect(koffi.stats().callbacks).toBe(callbacksBefore);
    // Refused again, and a good watcher started before the unregistering immediate has run.
    expect(() => refused.start(READABLE)).toThrow(SocketError);
    const fd = openFifo();
    const events: number[] = [];
    const watcher = loop.io(fd, (w, ready) => {
      events.push(ready);
      w.close();
    });
    watcher.start(WRITABLE);
    await new Promise((resolve) => setImmediate(resolve));
    expect(uvPoll.stats().callbacksRegistered).toBe(true);
    refused.close();
    await loop.run();
    expect(events).toEqual([WRITABLE]);
    loop.close();
    closeSync(fd);
    closeSync(devNull);
  });

  it('refuses a start libuv refuses (uv_poll_start fails) with a SocketError naming the fd and the errno, and stays inactive', async () => {
    const poll = UvPoll.bind(koffiFailingStart(-9));
    const loop = new UvLoop();
    const fd = openFifo();
    const watcher = poll.watch(loop, fd, () => undefined);
    const error = thrown(() => watcher.start(READABLE));
    expect(error).toBeInstanceOf(SocketError);
    expect(error).toMatchObject({ errno: 'EBADF', message: `cannot watch fd ${fd}: EBADF` });
    expect((error as Error).cause).toMatchObject({ syscall: 'uv_poll_start', code: 'EBADF', errno: -9, message: 'uv_poll_start: EBADF' });
    expect(watcher.isActive()).toBe(false);
    expect(loop.alive()).toBe(false);
    watcher.close();
    await loop.run();
    await new Promise((resolve) => setImmediate(resolve));
    loop.close();
    closeSync(fd);
  });
});

describe('UvPollWatcher: what its errors say', () => {
  it('names the fd, the errno and the syscall of a refusal', async () => {
    const fd = openSync('/dev/null', 'r');
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    const error = thrown(() => watcher.start(READABLE)) as SocketError;
    expect(error.message).toBe(`cannot watch fd ${fd}: EPERM`); // no word about Node watching it: that is EEXIST only
    expect(error.cause).toMatchObject({ message: 'uv_poll_init: EPERM' });
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });

  it('names a regular file or a directory as never pollable, before libuv sees it', async () => {
    const file = join(dir, 'plain');
    closeSync(openSync(file, 'w'));
    const loop = new UvLoop();
    for (const fd of [openSync(file, 'r'), openSync(dir, 'r')]) {
      const watcher = loop.io(fd, () => undefined);
      const error = thrown(() => watcher.start(READABLE)) as SocketError;
      expect(error).toMatchObject({ code: 'ERR_SOCKET', errno: 'EPERM', message: `cannot watch fd ${fd}: EPERM` });
      expect(error.cause).toMatchObject({ code: 'EPERM', message: 'a regular file or directory is always ready: it cannot be polled' });
      expect(uvPoll.stats().handles).toBe(0);
      watcher.close();
      closeSync(fd);
    }
    await loop.run();
    loop.close();
  });

  it('names the fd of a closed one and the fd watched twice', async () => {
    const fd = openFifo();
    closeSync(fd);
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    const error = thrown(() => watcher.start(READABLE)) as SocketError;
    expect(error).toMatchObject({ errno: 'EBADF', message: `cannot watch fd ${fd}: EBADF` });
    expect(() => loop.io(fd, () => undefined)).toThrow(`fd ${fd} is already watched by an open io watcher on this thread; close that watcher first`);
    watcher.close();
    await loop.run();
    loop.close();
  });

  it('names a bad event mask', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    expect(() => watcher.start(4)).toThrow('events must be a non-empty IoEvents mask (READABLE | WRITABLE), got 4');
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });

  it('refuses an event mask that is not a number with an InvalidArgumentError naming its type, null included', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    for (const [events, type] of [[null, 'null'], ['3', 'string'], [{}, 'object']] as const) {
      const error = thrown(() => watcher.start(events as never));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARG', message: `events must be an IoEvents mask, got ${type}` });
    }
    expect(watcher.isActive()).toBe(false);
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });

  it("is counted as an 'io' handle by a refused loop.close()", async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined).start(READABLE);
    expect(() => loop.close()).toThrow(/\(1 io;/);
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });
});

describe('UvPollWatcher: its uv_poll runs only while it is active and not parked', () => {
  /** uv events seen while Node's own loop turns for `ms` (the kit loop is not running). */
  async function uvEventsDuring(ms: number): Promise<number> {
    const before = uvPoll.stats().uvEvents;
    await nodeTurns(ms);
    return uvPoll.stats().uvEvents - before;
  }

  it('is a no-op to stop a watcher never started, or stopped already', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined);
    expect(watcher.stop()).toBe(watcher);
    watcher.start(READABLE).stop();
    expect(watcher.stop().isActive()).toBe(false);
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });

  it('stops its uv_poll on stop(): a readable fd raises no uv event afterwards', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const watcher = loop.io(fd, () => undefined).start(READABLE);
    writeSync(fd, 'x');
    watcher.stop();
    expect(await uvEventsDuring(50)).toBe(0);
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });

  it('parks again after a stop and a restart: one uv event while the loop is not running', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const seen: number[] = [];
    const watcher = loop.io(fd, (w, events) => {
      seen.push(events);
      w.close();
    });
    watcher.start(READABLE);
    writeSync(fd, 'x');
    await nodeTurns(20); // parked
    watcher.stop().start(READABLE);
    expect(await uvEventsDuring(50)).toBe(1);
    await loop.run();
    expect(seen).toEqual([READABLE]);
    loop.close();
    closeSync(fd);
  });

  it('keeps a parked watcher parked when its mask changes, and delivers only queued events the new mask has', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const seen: number[] = [];
    const watcher = loop.io(fd, (w, events) => {
      seen.push(events);
      w.close();
    });
    watcher.start(READABLE | WRITABLE);
    writeSync(fd, 'x');
    await nodeTurns(20); // parked with READABLE | WRITABLE queued
    watcher.start(WRITABLE);
    expect(watcher.events).toBe(WRITABLE);
    expect(await uvEventsDuring(50)).toBe(0);
    await loop.run();
    expect(seen).toEqual([WRITABLE]);
    loop.close();
    closeSync(fd);
  });

  it('never runs the callback with no events: a queued event the new mask drops is not delivered, the next one is', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const seen: number[] = [];
    const watcher = loop.io(fd, (w, events) => {
      seen.push(events);
      w.close();
    });
    watcher.start(READABLE);
    writeSync(fd, 'x');
    await nodeTurns(20); // parked with READABLE queued
    watcher.start(WRITABLE);
    await loop.run();
    expect(seen).toEqual([WRITABLE]);
    loop.close();
    closeSync(fd);
  });

  it('leaves no poll behind when the callback of a parked delivery stops the watcher and closes its fd', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    const seen: number[] = [];
    const watcher = loop.io(fd, (w, events) => {
      seen.push(events);
      w.stop();
      closeSync(fd);
    });
    watcher.start(READABLE);
    writeSync(fd, 'x');
    await nodeTurns(20); // parked
    expect(await loop.run()).toBe(false);
    expect(seen).toEqual([READABLE]);
    expect(loop.errors).toEqual([]);
    expect(watcher.isActive()).toBe(false);
    watcher.close();
    await loop.run();
    loop.close();
  });

  it('leaves no poll behind when a callback stops the watcher after a parked delivery was restarted', async () => {
    const fd = openFifo();
    const loop = new UvLoop();
    let calls = 0;
    const watcher = loop.io(fd, (w) => {
      if (++calls === 2) w.stop(); // never reads: the fd stays readable
    });
    watcher.start(READABLE);
    writeSync(fd, 'x');
    await nodeTurns(20); // parked; the first delivery restarts the poll, the second comes from it
    expect(await loop.run()).toBe(false);
    expect(calls).toBe(2);
    expect(await uvEventsDuring(50)).toBe(0);
    watcher.close();
    await loop.run();
    loop.close();
    closeSync(fd);
  });
});
