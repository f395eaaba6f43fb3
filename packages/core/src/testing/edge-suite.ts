import { connect as nodeConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { EventLoopError } from '../errors.js';
import type { HttpLimits, HttpServerOptions } from '../http.js';
import type { EventLoop, PhaseHook } from '../loop.js';
import type { TcpServer, TcpStream } from '../stream.js';
import { get, openFdCount, rawExchange, recordingLoop, within, withLoop, type LoopFactory } from './helpers.js';
import { withHttp } from './http-fixture.js';

/**
 * Edge cases of rules the other suites state: each test here is a behaviour that a plausible
 * one-line bug broke while every other test stayed green (found by mutation testing; see
 * CONTRIBUTING.md). Order is asserted, never elapsed time, so that they hold in virtual time too.
 */
export function defineEdgeSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  describe('edge cases: timers', () => {
    it('runs timers due at the same time in start order through the loop, and a restarted one after the others', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const timers = ['a', 'b', 'c', 'd'].map((name) => loop.timer(() => order.push(name)));
        // One synchronous stretch: now() does not move, so all four are due at the same time.
        for (const timer of timers) timer.start(5);
        timers[1]?.start(5);
        await loop.run();
        expect(order).toEqual(['a', 'c', 'd', 'b']);
      }));

    it('again() on an inactive timer whose repeat is 0 leaves it inactive and never fires it', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer(() => fired++);
        timer.again();
        expect(timer.isActive()).toBe(false);
        expect(timer.dueIn()).toBeUndefined();
        expect(loop.alive()).toBe(false);
        loop.timer(() => undefined).start(5);
        await loop.run();
        expect(fired).toBe(0);
      }));

    it('again() on an active timer whose repeat is 0 leaves it as it was: it fires once, when first due', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const timer = loop.timer(() => order.push('timer'));
        timer.start(10);
        loop.timer(() => order.push('earlier')).start(5);
        timer.again();
        expect(timer.isActive()).toBe(true);
        expect(timer.dueIn()).toBeCloseTo(10, 6);
        loop.timer(() => order.push('later')).start(20);
        await loop.run();
        expect(order).toEqual(['earlier', 'timer', 'later']);
      }));

    it('again() restarts a repeating timer from now with its repeat value, then it keeps repeating', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer((t) => {
          if (++fired === 3) t.stop();
        });
        timer.start(60_000, 10);
        timer.again();
        expect(timer.dueIn()).toBeCloseTo(10, 6);
        expect(timer.repeat).toBe(10);
        await loop.run();
        expect(fired).toBe(3);
      }));

    it('a timer stopped or closed before it is due never fires, and the closed one runs its close callback', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const stopped = loop.timer(() => order.push('stopped timer')).start(1);
        const closed = loop.timer(() => order.push('closed timer')).start(1);
        loop.timer(() => order.push('keep-alive')).start(20);
        stopped.stop();
        closed.close(() => order.push('close callback'));
        await loop.run();
        expect(order).toEqual(['close callback', 'keep-alive']);
        stopped.close();
        await loop.run();
      }));

    it('a repeating timer stopped from its own callback does not fire again while another handle keeps the loop alive', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const repeating = loop.timer((timer) => {
          order.push('repeat');
          timer.stop();
          order.push(`active after stop: ${timer.isActive()}`);
        });
        repeating.start(1, 1);
        loop.timer(() => order.push('keep-alive')).start(30);
        await loop.run();
        expect(order).toEqual(['repeat', 'active after stop: false', 'keep-alive']);
        expect(repeating.dueIn()).toBeUndefined();
      }));

    it('a timer whose repeat is set while it runs re-arms with the new value at its next firing', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        let fired = 0;
        const timer = loop.timer((t) => {
          order.push(`tick ${++fired}`);
          if (fired === 1) t.repeat = 0; // the current firing already re-armed with the old value
          else if (fired > 2) t.stop(); // a bug guard: it must not get here
        });
        timer.start(1, 1);
        loop.timer(() => order.push('keep-alive')).start(30);
        await loop.run();
        expect(order).toEqual(['tick 1', 'tick 2', 'keep-alive']);
        expect(timer.isActive()).toBe(false);
      }));
  });

  describe('edge cases: ref and unref', () => {
    it('unref() on an inactive handle does not stop a referenced handle started later from keeping the loop alive', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const idle = loop.timer(() => undefined);
        idle.unref().unref();
        expect(loop.alive()).toBe(false);
        const timer = loop.timer(() => fired++).start(5);
        expect(loop.alive()).toBe(true);
        expect(await loop.run()).toBe(false);
        expect(fired).toBe(1);
        expect(timer.isActive()).toBe(false);
        idle.close();
        await loop.run();
      }));

    it('an inactive handle unreferenced, referenced again and started keeps the loop alive and fires', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer(() => fired++);
        timer.unref();
        timer.ref().ref();
        expect(timer.hasRef()).toBe(true);
        timer.start(5);
        expect(loop.alive()).toBe(true);
        await loop.run();
        expect(fired).toBe(1);
      }));

    it('an unreferenced handle started, then referenced while active, keeps the loop alive until it fires', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const timer = loop.timer(() => fired++).unref().start(5);
        expect(loop.alive()).toBe(false);
        timer.ref();
        expect(loop.alive()).toBe(true);
        await loop.run();
        expect(fired).toBe(1);
        expect(loop.alive()).toBe(false);
      }));

    it('stop() on a handle that is not active leaves the loop alive for the handles that are', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const never = loop.timer(() => undefined);
        never.stop().stop();
        const hooks = (['idle', 'prepare', 'check'] as const).filter((kind) => capabilities[kind]).map((kind) => loop[kind](() => undefined));
        for (const hook of hooks) hook.stop();
        loop.timer(() => fired++).start(5);
        expect(loop.alive()).toBe(true);
        await loop.run();
        expect(fired).toBe(1);
        for (const hook of hooks) hook.close();
        never.close();
        await loop.run();
      }));

    it('a closed unreferenced handle leaves the loop alive for the referenced ones', () =>
      withLoop(createLoop, async (loop) => {
        let fired = 0;
        const closing = loop.timer(() => undefined).start(60_000).unref();
        loop.timer(() => fired++).start(5);
        closing.close();
        await loop.run();
        expect(fired).toBe(1);
        expect(loop.alive()).toBe(false);
      }));
  });

  describe('edge cases: phase hooks', () => {
    for (const kind of ['idle', 'prepare', 'check'] as const) {
      if (!capabilities[kind]) continue; // the loop suite asserts UnsupportedError for these
      it(`a ${kind} hook started by another ${kind} hook first runs in the next iteration`, () =>
        withLoop(createLoop, async (loop) => {
          const order: string[] = [];
          let iteration = 0;
          const second: PhaseHook = loop[kind](() => {
            order.push(`second ${iteration}`);
            if (iteration === 3) {
              first.close();
              second.close();
              ticker.close();
            }
          });
          const first = loop[kind](() => {
            order.push(`first ${++iteration}`);
            if (iteration === 1) second.start();
          });
          // Prepare and check hooks alone let the poll block: a repeating timer ends each wait.
          const ticker = loop.timer(() => undefined).start(1, 1);
          first.start();
          await loop.run();
          expect(order).toEqual(['first 1', 'first 2', 'second 2', 'first 3', 'second 3']);
        }));
    }
  });

  describe('edge cases: more hooks and pending callbacks', () => {
    const kinds = (['idle', 'prepare', 'check'] as const).filter((kind) => capabilities[kind]);
    for (const kind of kinds) {
      it(`stopping one ${kind} hook leaves the other ${kind} hooks running`, () =>
        withLoop(createLoop, async (loop) => {
          const order: string[] = [];
          let iteration = 0;
          const hooks = ['a', 'b', 'c'].map((name) =>
            loop[kind]((hook) => {
              order.push(`${name} ${iteration}`);
              if (name === 'a') hook.stop();
              if (name === 'c' && ++iteration === 2) {
                for (const each of hooks) each.close();
                ticker.close();
              }
            }),
          );
          const ticker = loop.timer(() => undefined).start(1, 1);
          for (const hook of hooks) hook.start();
          await loop.run();
          expect(order).toEqual(['a 0', 'b 0', 'c 0', 'b 1', 'c 1']);
        }));

      it(`refuses to start a closed ${kind} hook with ERR_HANDLE_CLOSED`, () =>
        withLoop(createLoop, async (loop) => {
          const hook = loop[kind](() => undefined);
          hook.close();
          expect(() => hook.start()).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CLOSED' }));
          expect(hook.isActive()).toBe(false);
          await loop.run();
        }));

      it(`a ${kind} hook that closes itself while active never runs again, and its close callback runs`, () =>
        withLoop(createLoop, async (loop) => {
          const order: string[] = [];
          let firings = 0;
          loop[kind]((self) => {
            order.push(kind);
            self.close(() => order.push('close callback'));
          }).start();
          // Keeps the loop iterating after the close (prepare and check hooks alone let the poll block).
          const ticker = loop
            .timer(() => {
              if (++firings === 3) ticker.close();
            })
            .start(1, 1);
          await loop.run();
          expect(order).toEqual([kind, 'close callback']);
        }));
    }

    it('counts a callSoon cancelled twice out once: a callback queued after it still keeps the loop alive and runs', () =>
      withLoop(createLoop, async (loop) => {
        let ran = 0;
        const cancelled = loop.callSoon(() => ran++);
        cancelled.cancel();
        cancelled.cancel();
        loop.callSoon(() => ran++);
        expect(loop.alive()).toBe(true);
        expect(await loop.run()).toBe(false);
        expect(ran).toBe(1);
      }));
  });

  describe('edge cases: stop()', () => {
    it('stop() from a timer callback with a long timer pending makes run() return after that iteration', () =>
      withLoop(createLoop, async (loop) => {
        let longFired = 0;
        const long = loop.timer(() => longFired++).start(60_000);
        loop.timer(() => loop.stop()).start(1);
        expect(await within(loop.run(), 10_000, 'run() after stop() from a timer')).toBe(true);
        expect(longFired).toBe(0);
        long.close();
        await loop.run();
      }));

    it('stop() from a pending callback with a long timer pending makes run() return after that iteration', () =>
      withLoop(createLoop, async (loop) => {
        let longFired = 0;
        const long = loop.timer(() => longFired++).start(60_000);
        loop.callSoon(() => loop.stop());
        expect(await within(loop.run(), 10_000, 'run() after stop() from callSoon')).toBe(true);
        expect(longFired).toBe(0);
        long.close();
        await loop.run();
      }));

    if (capabilities.tcp) {
      it('stop() from an I/O callback in default mode with a long timer pending makes run() return promptly', async () => {
        const fdsBefore = openFdCount();
        const { loop } = recordingLoop(createLoop);
        const order: string[] = [];
        const accepted: TcpStream[] = [];
        const server: TcpServer = await loop.listen({ port: 0 }, (stream) => {
          accepted.push(stream);
          stream.write('x');
        });
        const client = await loop.connect({ port: server.address.port });
        const long = loop.timer(() => order.push('long timer')).start(60_000);
        client.on({
          data: (chunk) => {
            order.push(`data ${Buffer.from(chunk).toString()}`);
            loop.stop();
          },
        });
        expect(await within(loop.run(), 10_000, 'run() after stop() from an I/O callback')).toBe(true);
        expect(order).toEqual(['data x']);
        long.close();
        for (const stream of accepted) stream.close();
        client.close();
        server.close();
        await within(loop.run(), 10_000, 'closing after stop()');
        loop.close();
        expect(openFdCount()).toBe(fdsBefore);
      });
    }
  });

  if (capabilities.tcp) defineStreamEdges(createLoop);
  if (!capabilities.http) return; // the HTTP suite asserts UnsupportedError
  defineHttpEdges(createLoop, capabilities);
}

/** Connect a client stream to a fresh server; `onServer` gets the accepted side. */
async function streamPair(loop: EventLoop, onServer: (stream: TcpStream) => void): Promise<{ server: TcpServer; client: TcpStream }> {
  const server = await loop.listen({ port: 0 }, onServer);
  const client = await loop.connect({ port: server.address.port });
  return { server, client };
}

function defineStreamEdges(createLoop: LoopFactory): void {
  describe('edge cases: tcp streams', () => {
    it('passes the error given to destroy() to the close callback, once, and nothing to a plain close()', async () => {
      const fdsBefore = openFdCount();
      const { loop } = recordingLoop(createLoop);
      const closes: unknown[] = [];
      const accepted: TcpStream[] = [];
      const { server, client } = await streamPair(loop, (stream) => accepted.push(stream));
      const reason = new EventLoopError('ERR_SOCKET', 'given up by the test');
      client.on({ close: (error) => closes.push(error) });
      client.destroy(reason);
      client.destroy(new EventLoopError('ERR_SOCKET', 'a second destroy is ignored'));
      expect(client.writable).toBe(false);
      expect(client.write('after destroy')).toBe(false);
      loop.callSoon(() => {
        for (const stream of accepted) stream.on({ close: (error) => closes.push(error ?? 'plain close') }).close();
        server.close();
      });
      await within(loop.run(), 10_000, 'destroy and close');
      expect(closes[0]).toBe(reason);
      expect(closes.slice(1)).toEqual(accepted.map(() => 'plain close'));
      loop.close();
      expect(openFdCount()).toBe(fdsBefore);
    });
  });
}

/** A raw client that sends a request and then reads nothing until told to. */
function lazyClient(port: number, request: string): { resumed: Promise<Buffer>; resume(): void; destroy(): void } {
  const socket = nodeConnect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.pause();
  socket.write(request);
  const chunks: Buffer[] = [];
  const resumed = new Promise<Buffer>((resolve) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
  return { resumed, resume: () => socket.resume(), destroy: () => socket.destroy() };
}

/** Send `parts` on one connection and return what came back once the server closed it (5 s at most). */
async function closedWithin(port: number, parts: string[]): Promise<string> {
  return (await within(rawExchange(port, parts, 50), 5_000, 'the server to close the connection')).toString('latin1');
}

function defineHttpEdges(createLoop: LoopFactory, capabilities: Capabilities): void {
  const settable = capabilities.httpLimits;
  // A connection left open would be closed by the idle timeout anyway: push it out of the way, so
  // that only a close of the server's own ends the exchange.
  const patient: HttpServerOptions = settable.keepAliveTimeout ? { keepAliveTimeout: 60_000 } : {};

  describe('edge cases: http', () => {
    if (settable.maxBodySize) {
      it('accepts a chunked body of exactly maxBodySize, and answers 413 for one byte more', () =>
        withHttp(
          createLoop,
          { maxBodySize: 100 },
          () => (request, response) => {
            let size = 0;
            request.on({ data: (chunk) => (size += chunk.byteLength), end: () => response.end(`got ${size}`) });
          },
          async ({ send }) => {
            const head = 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
            const exact = await send([head, `3c\r\n${'x'.repeat(60)}\r\n`, `28\r\n${'y'.repeat(40)}\r\n0\r\n\r\n`], 10);
            expect(exact.map((r) => [r.status, r.body])).toEqual([[200, 'got 100']]);
            const over = await send([head, `3c\r\n${'x'.repeat(60)}\r\n`, `29\r\n${'y'.repeat(41)}\r\n0\r\n\r\n`], 10);
            expect(over.map((r) => r.status)).toEqual([413]);
          },
        ));

      it('accepts a declared body of exactly maxBodySize, and answers 413 for one byte more', () =>
        withHttp(
          createLoop,
          { maxBodySize: 100 },
          () => (request, response) => {
            let size = 0;
            request.on({ data: (chunk) => (size += chunk.byteLength), end: () => response.end(`got ${size}`) });
          },
          async ({ send }) => {
            const post = (length: number): string => `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${'x'.repeat(length)}`;
            expect((await send(post(100))).map((r) => [r.status, r.body])).toEqual([[200, 'got 100']]);
            expect((await send(post(101))).map((r) => r.status)).toEqual([413]);
          },
        ));
    }

    // The limit cases of the HTTP suite, each followed on the same connection by a request that a
    // connection left open would answer.
    const wanted: Required<Pick<HttpLimits, 'maxUrlLength' | 'maxHeaderCount' | 'maxHeaderSize' | 'maxBodySize'>> = {
      maxUrlLength: 64,
      maxHeaderCount: 8,
      maxHeaderSize: 512,
      maxBodySize: 100,
    };
    const limits = Object.fromEntries(Object.entries(wanted).filter(([key]) => settable[key as keyof HttpLimits])) as HttpServerOptions;
    const refusals: [keyof typeof wanted, string, string[], number][] = [
      ['maxUrlLength', 'a URL over maxUrlLength', [get(`/${'u'.repeat(100)}`)], 414],
      ['maxHeaderCount', 'too many headers', [get('/', Array.from({ length: 10 }, (_, i) => `X-H${i}: v\r\n`).join(''))], 431],
      ['maxHeaderSize', 'headers over maxHeaderSize', [get('/', `X-Big: ${'b'.repeat(600)}\r\n`)], 431],
      ['maxBodySize', 'a declared body over maxBodySize', [`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n${'x'.repeat(101)}`], 413],
      [
        'maxBodySize',
        'a chunked body over maxBodySize',
        ['POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n', `64\r\n${'x'.repeat(100)}\r\n`, `10\r\n${'y'.repeat(16)}\r\n0\r\n\r\n`],
        413,
      ],
    ];
    for (const [limit, what, payload, status] of refusals) {
      if (!settable[limit]) continue;
      it(`closes the connection it refused for ${what}: a request sent after it on that connection gets no answer`, () =>
        withHttp(
          createLoop,
          { ...limits, ...patient },
          () => (request, response) => {
            request.on({ data: () => undefined, end: () => response.end('ok') });
          },
          async ({ send }) => {
            const responses = await send([...payload, get('/after')], 50);
            expect(responses.map((r) => [r.status, r.headers['connection']])).toEqual([[status, 'close']]);
          },
        ));
    }

    it('closes the connection of a response whose handler throws after the headers were sent', () =>
      withHttp(
        createLoop,
        patient,
        () => (request, response) => {
          if (request.url === '/after') {
            response.end('answered on the same connection');
            return;
          }
          response.write('partial');
          throw new Error('failed mid-response');
        },
        async ({ server, errors }) => {
          // What was written before the failure may or may not reach the client; the close must.
          const text = await closedWithin(server.address.port, [get('/fail'), get('/after')]);
          expect(text).not.toContain('answered on the same connection');
          expect(text).not.toMatch(/^HTTP\/1\.1 500/m);
          expect(errors.map((e) => [(e.error as Error).message, e.phase])).toEqual([['failed mid-response', 'poll']]);
        },
      ));

    it('closes the connection of a response whose async handler rejects after the headers were sent', () =>
      withHttp(
        createLoop,
        patient,
        () => async (request, response) => {
          if (request.url === '/after') {
            response.end('answered on the same connection');
            return;
          }
          response.write('partial');
          await Promise.resolve();
          throw new Error('rejected mid-response');
        },
        async ({ server, errors }) => {
          const text = await closedWithin(server.address.port, [get('/fail'), get('/after')]);
          expect(text).not.toContain('answered on the same connection');
          expect(text).not.toMatch(/^HTTP\/1\.1 500/m);
          expect(errors.map((e) => (e.error as Error).message)).toEqual(['rejected mid-response']);
        },
      ));

    it('lets response.write() to a client that does not read return false, then runs drain once it reads', () => {
      const chunk = Buffer.alloc(64 * 1024, 'w');
      const cap = 1024; // 64 MiB: far past any socket buffer, so write() must have said false long before
      let writes = 0;
      let sawFalse = false;
      let drains = 0;
      let blocked!: () => void;
      const backpressure = new Promise<void>((resolve) => (blocked = resolve));
      return withHttp(
        createLoop,
        {},
        () => (_request, response) => {
          response.on({
            drain: () => {
              drains++;
              response.end();
            },
          });
          while (writes < cap) {
            writes++;
            if (!response.write(chunk)) {
              sawFalse = true;
              break;
            }
          }
          if (!sawFalse) response.end();
          blocked();
        },
        async ({ server }) => {
          const client = lazyClient(server.address.port, get('/big', 'Connection: close\r\n'));
          await within(backpressure, 10_000, 'the handler to see write() return false');
          expect(sawFalse).toBe(true);
          expect(writes).toBeLessThan(cap);
          client.resume();
          const body = await within(client.resumed, 15_000, 'the response after reading resumed');
          expect(drains).toBeGreaterThanOrEqual(1);
          expect(body.toString('latin1').startsWith('HTTP/1.1 200')).toBe(true);
        },
      );
    });
  });
}
