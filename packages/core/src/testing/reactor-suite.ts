import { createServer, connect as nodeConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import type { SocketError } from '../errors.js';
import type { EventLoop, Handle } from '../loop.js';
import type { TcpServer, TcpStream } from '../stream.js';
import { openFdCount, ranInPollPhase, recordingLoop, tracePhases, within, withLoop, type LoopFactory } from './helpers.js';

/**
 * Keep the loop alive with a poll that waits for nothing but a wake-up: a check hook alone lets
 * the poll block indefinitely (as in libuv). A far loop timer would do only on a real clock: a
 * virtual clock jumps straight to it. Backends without check hooks get the far timer.
 */
function waitForWake(loop: EventLoop, onTimer: () => void): Handle {
  return loop.capabilities.check ? loop.check(() => undefined).start() : loop.timer(onTimer).start(60_000);
}

/**
 * What a hub (or any reactor on top) needs from the loop: callSoon with an argument from any
 * context, waits that never block the JavaScript thread, and completions delivered as callbacks
 * in a loop phase.
 */
export function defineReactorSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  describe('reactor primitives', () => {
    it('passes callSoon its argument', () =>
      withLoop(createLoop, async (loop) => {
        const seen: unknown[] = [];
        const record = (value: unknown): void => {
          seen.push(value);
        };
        const token = { id: 1 };
        loop.callSoon(record, token);
        loop.callSoon(record, 42);
        loop.callSoon(record);
        await loop.run();
        expect(seen).toEqual([token, 42, undefined]);
      }));

    it('ends a waiting poll for callSoon from a Node timer and from a microtask', () =>
      withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const far = waitForWake(loop, () => order.push('far timer'));
        const running = loop.run();
        setTimeout(() => {
          loop.callSoon(() => {
            order.push('from a Node timer');
            void Promise.resolve().then(() =>
              loop.callSoon(() => {
                order.push('from a microtask');
                far.close();
              }),
            );
          });
        }, 20);
        await within(running, 5_000, 'run() woken by callSoon from outside the loop');
        expect(order).toEqual(['from a Node timer', 'from a microtask']);
      }));

    it('never blocks the JavaScript thread while run() waits: Node timers, promises and Node I/O go on', () =>
      withLoop(createLoop, async (loop) => {
        const seen: string[] = [];
        let waiting = false;
        // The loop waits for a wake-up (not a timer, which a virtual clock would jump to) while
        // Node works; a callSoon queued once Node is done ends the wait.
        const hold = waitForWake(loop, () => seen.push(`loop timer (still waiting: ${waiting})`));
        const running = loop.run();
        waiting = true;
        // Plain Node I/O, not the loop's: an echo over node:net while the loop waits.
        const echoed = await new Promise<string>((resolve, reject) => {
          const server = createServer((socket) => socket.pipe(socket));
          server.listen(0, '127.0.0.1', () => {
            const address = server.address() as { port: number };
            const client = nodeConnect(address.port, '127.0.0.1', () => client.end('ping'));
            let text = '';
            client.on('data', (chunk) => (text += String(chunk)));
            client.on('error', reject);
            client.on('close', () => server.close(() => resolve(text)));
          });
        });
        seen.push(`node echo: ${echoed} (loop running: ${loop.isRunning()})`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(`node timer (loop running: ${loop.isRunning()})`);
        waiting = false;
        loop.callSoon(() => {
          seen.push(`loop callback (still waiting: ${waiting})`);
          hold.close();
        });
        await running;
        expect(seen).toEqual(['node echo: ping (loop running: true)', 'node timer (loop running: true)', 'loop callback (still waiting: false)']);
        expect(hold.isActive()).toBe(false);
      }));
  });

  if (!capabilities.tcp) return;
  describe('completions as callbacks in a loop phase', () => {
    it('runs the callback of listen() and of connect() in the poll phase, with the result', () => {
      const fdsBefore = openFdCount();
      return withLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const untrace = tracePhases(loop, order);
        let server: TcpServer | undefined;
        let client: TcpStream | undefined;
        loop.listen(
          { port: 0 },
          (stream) => stream.close(),
          (error, listening) => {
            if (error || !listening) throw error ?? new Error('no server');
            order.push('listening');
            server = listening;
            loop.connect({ port: listening.address.port }, (connectError, stream) => {
              if (connectError || !stream) throw connectError ?? new Error('no stream');
              order.push('connected');
              client = stream;
              stream.on({ data: () => undefined, end: () => stream.end(), close: () => server?.close(() => untrace()) });
            });
          },
        );
        expect(order).toEqual([]);
        await within(loop.run(), 10_000, 'listen and connect by callback');
        if (capabilities.prepare && capabilities.check) {
          expect(ranInPollPhase(order, 'listening')).toBe(true);
          expect(ranInPollPhase(order, 'connected')).toBe(true);
        }
        expect(client?.isClosing()).toBe(true);
        expect(openFdCount()).toBe(fdsBefore);
      });
    });

    it('keeps the loop alive while a listen() or connect() is in flight, and reports failures through the callback', () =>
      withLoop(createLoop, async (loop) => {
        const outcomes: string[] = [];
        const first = await loop.listen({ port: 0 }, () => undefined);
        const port = first.address.port;
        loop.listen({ port }, () => undefined, (error) => {
          outcomes.push(`listen: ${(error as SocketError | undefined)?.errno}`);
          first.close();
          loop.connect({ port }, (connectError) => {
            outcomes.push(`connect: ${(connectError as SocketError | undefined)?.errno}`);
          });
        });
        first.unref();
        expect(loop.alive()).toBe(true); // kept alive by the listen in flight alone
        await within(loop.run(), 10_000, 'failing listen and connect by callback');
        expect(outcomes).toEqual(['listen: EADDRINUSE', 'connect: ECONNREFUSED']);
      }));

    it('throws bad options synchronously in the callback form', () =>
      withLoop(createLoop, (loop) => {
        expect(() => loop.listen({ port: -1 }, () => undefined, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        expect(() => loop.connect({ port: 0 }, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        expect(() => loop.connect({ port: 1 }, 'not a function' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        expect(loop.alive()).toBe(false);
      }));

    it('settles the promise form while the loop is not running', async () => {
      const { loop } = recordingLoop(createLoop);
      const server = await within(loop.listen({ port: 0 }, () => undefined), 5_000, 'listen() promise without run()');
      expect(loop.isRunning()).toBe(false);
      server.close();
      await loop.run();
      loop.close();
    });
  });
}
