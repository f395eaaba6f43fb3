import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { SocketError, UnsupportedError, type EventLoopError } from '../errors.js';
import type { EventLoop } from '../loop.js';
import type { TcpStream } from '../stream.js';
import { forCapability, openFdCount, recordingLoop, within, type LoopFactory } from './helpers.js';

/**
 * Run `fn` on a fresh loop, then check the loop closes cleanly, no callback error was reported
 * unless `fn` says so, and the process has as many open fds as before.
 */
async function withNetLoop(createLoop: LoopFactory, fn: (loop: EventLoop, errors: { error: unknown; phase: string }[]) => Promise<void>): Promise<void> {
  const fdsBefore = openFdCount();
  const { loop, errors } = recordingLoop(createLoop);
  await within(fn(loop, errors), 20_000, 'stream test');
  loop.close();
  expect(openFdCount()).toBe(fdsBefore);
}

/** A free port: bind an ephemeral one and release it. */
async function unusedPort(loop: EventLoop): Promise<number> {
  const probe = await loop.listen({ port: 0 }, () => undefined);
  const port = probe.address.port;
  probe.close();
  await loop.run();
  return port;
}

/** TCP streams: echo, concurrency, half-close, backpressure, errors, fd hygiene. */
export function defineStreamSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  forCapability(capabilities.tcp, 'tcp streams', () => {
    it('echoes data over TCP and reports both endpoints', () =>
      withNetLoop(createLoop, async (loop, errors) => {
        let serverSeesPort: number | undefined;
        const server = await loop.listen({ port: 0 }, (stream) => {
          // Read here, while the server side is surely open: once it has echoed and ended, it may
          // close before the echo reaches the client (at once, on a network without delays), and a
          // closed stream has no address.
          serverSeesPort = stream.remoteAddress?.port;
          stream.on({ data: (chunk) => stream.write(chunk), end: () => stream.end() });
        });
        const client = await loop.connect({ port: server.address.port });
        const received: Buffer[] = [];
        const addresses: unknown[] = [];
        client.on({
          data: (chunk) => {
            received.push(Buffer.from(chunk));
            addresses.push(client.remoteAddress?.port, client.localAddress?.port);
          },
          close: () => server.close(),
        });
        client.write('hello, ');
        client.end('loop');
        await loop.run();
        expect(Buffer.concat(received).toString()).toBe('hello, loop');
        expect(addresses[0]).toBe(server.address.port);
        expect(serverSeesPort).toEqual(expect.any(Number));
        expect(addresses[1]).toBe(serverSeesPort);
        expect(server.address.address).toBe('127.0.0.1');
        expect(errors).toEqual([]);
      }));

    it('serves 1,000 concurrent connections', () =>
      withNetLoop(createLoop, async (loop, errors) => {
        const total = 1000;
        let accepted = 0;
        let echoed = 0;
        let closed = 0;
        const server = await loop.listen({ port: 0, backlog: 1024 }, (stream) => {
          accepted++;
          stream.on({ data: (chunk) => stream.write(chunk), end: () => stream.end() });
        });
        const running = loop.run();
        const clients = await Promise.all(Array.from({ length: total }, () => loop.connect({ port: server.address.port })));
        clients.forEach((client, i) => {
          let text = '';
          client.on({
            data: (chunk) => {
              text += Buffer.from(chunk).toString();
              if (text === `ping ${i}`) {
                echoed++;
                client.end();
              }
            },
            close: () => {
              if (++closed === total) server.close();
            },
          });
          client.write(`ping ${i}`);
        });
        await running;
        expect([accepted, echoed, closed]).toEqual([total, total, total]);
        expect(errors).toEqual([]);
      }));

    it('half-closes: the peer still writes after our end(), and both sides see the order', () =>
      withNetLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const server = await loop.listen({ port: 0 }, (stream) => {
          stream.on({
            data: (chunk) => order.push(`server data ${Buffer.from(chunk).toString()}`),
            end: () => {
              order.push('server end');
              stream.end('answer');
            },
            close: () => order.push('server close'),
          });
        });
        const client = await loop.connect({ port: server.address.port });
        client.on({
          data: (chunk) => order.push(`client data ${Buffer.from(chunk).toString()}`),
          end: () => order.push('client end'),
          close: () => {
            order.push('client close');
            server.close();
          },
        });
        client.end('question');
        await loop.run();
        expect(order.filter((e) => e.startsWith('server'))).toEqual(['server data question', 'server end', 'server close']);
        expect(order.filter((e) => e.startsWith('client'))).toEqual(['client data answer', 'client end', 'client close']);
      }));

    it('delivers the end of a peer that half-closed before its connection callback ran', () =>
      withNetLoop(createLoop, async (loop) => {
        const log: string[] = [];
        const server = await loop.listen({ port: 0 }, (stream) => {
          stream.on({
            data: (chunk) => log.push(`data ${Buffer.from(chunk).toString()}`),
            end: () => {
              log.push('end');
              stream.end();
            },
          });
        });
        const client = await loop.connect({ port: server.address.port });
        client.end(); // a FIN and nothing else, sent while the loop is not running
        await sleep(50); // for the FIN to reach the server's socket before it is accepted
        client.on({ data: () => undefined, close: () => server.close() });
        await loop.run();
        expect(log).toEqual(['end']);
      }));

    it('reports a throwing connection callback, and the server still accepts the connections after it', () =>
      withNetLoop(createLoop, async (loop, errors) => {
        let accepted = 0;
        const server = await loop.listen({ port: 0 }, (stream) => {
          stream.on({ data: () => undefined, end: () => stream.end() });
          if (++accepted === 1) throw new Error('bad connection callback');
        });
        let open = 2;
        for (let i = 0; i < 2; i++) {
          const client = await loop.connect({ port: server.address.port });
          client.on({ data: () => undefined, close: () => --open === 0 && server.close() });
          client.end();
        }
        await loop.run();
        expect(accepted).toBe(2);
        expect(errors.map((e) => [e.phase, (e.error as Error).message])).toEqual([['poll', 'bad connection callback']]);
      }));

    it('reports a throwing end callback, and the stream still closes cleanly once both sides ended', () =>
      withNetLoop(createLoop, async (loop, errors) => {
        const log: string[] = [];
        const server = await loop.listen({ port: 0 }, (stream) => {
          stream.end('bye'); // our end goes out before the peer's arrives
          stream.on({
            data: () => undefined,
            end: () => {
              throw new Error('bad end callback');
            },
            close: (error) => log.push(`server stream closed ${error === undefined ? 'clean' : error.code}`),
          });
        });
        const client = await loop.connect({ port: server.address.port });
        client.on({ data: () => undefined, end: () => client.end(), close: () => server.close() });
        await loop.run();
        expect(log).toEqual(['server stream closed clean']);
        expect(errors.map((e) => [e.phase, (e.error as Error).message])).toEqual([['poll', 'bad end callback']]);
      }));

    it('keeps the write buffer bounded while writing 64 MiB to a slow reader', () =>
      withNetLoop(createLoop, async (loop) => {
        const total = 64 * 1024 * 1024;
        const chunkSize = 64 * 1024;
        let written = 0;
        let maxBuffered = 0;
        let drains = 0;
        const server = await loop.listen({ port: 0 }, (stream) => {
          const pump = (): void => {
            while (written < total) {
              // A fresh chunk each time: unbounded buffering would show up as memory, not as reuse.
              const more = stream.write(Buffer.alloc(chunkSize, written & 0xff));
              written += chunkSize;
              maxBuffered = Math.max(maxBuffered, stream.bufferedAmount);
              if (!more) return;
            }
            stream.end();
          };
          stream.on({
            drain: () => {
              drains++;
              pump();
            },
          });
          pump();
        });
        const client = await loop.connect({ port: server.address.port });
        let received = 0;
        let nextPause = 1024 * 1024;
        const resume = loop.timer(() => client.resume());
        client.on({
          data: (chunk) => {
            received += chunk.length;
            if (received >= nextPause) {
              // The slow reader: stop for 1 ms after every MiB.
              nextPause += 1024 * 1024;
              client.pause();
              resume.start(1);
            }
          },
          end: () => client.end(),
          close: () => {
            resume.close();
            server.close();
          },
        });
        await loop.run();
        expect(received).toBe(total);
        expect(drains).toBeGreaterThan(0);
        expect(maxBuffered).toBeLessThan(1024 * 1024);
      }));

    it('reports a peer that resets the connection mid-write as a socket error on close', () =>
      withNetLoop(createLoop, async (loop, errors) => {
        let closeError: EventLoopError | undefined;
        let closes = 0;
        const server = await loop.listen({ port: 0 }, (stream) => {
          const chunk = Buffer.alloc(64 * 1024);
          const pump = (): void => {
            while (!stream.isClosing() && stream.write(chunk)) {
              /* keep writing until backpressure */
            }
          };
          stream.on({
            drain: pump,
            close: (error) => {
              closes++;
              closeError = error;
              server.close();
            },
          });
          pump();
        });
        const client = await loop.connect({ port: server.address.port });
        // Closing with unread data in the receive buffer makes the kernel send RST.
        client.on({ data: () => client.destroy() });
        await loop.run();
        expect(closes).toBe(1);
        expect(closeError).toBeInstanceOf(SocketError);
        expect(['ECONNRESET', 'EPIPE']).toContain((closeError as SocketError).errno);
        expect(errors).toEqual([]);
      }));

    it('does nothing and returns false for write() and end() after end() or close, and never throws', () =>
      withNetLoop(createLoop, async (loop, errors) => {
        const received: string[] = [];
        const server = await loop.listen({ port: 0 }, (stream) =>
          stream.on({ data: (chunk) => received.push(Buffer.from(chunk).toString()), end: () => stream.end() }),
        );
        const client = await loop.connect({ port: server.address.port });
        expect(client.writable).toBe(true);
        client.on({
          data: () => undefined,
          close: () => {
            expect(client.write('after close')).toBe(false);
            server.close();
          },
        });
        client.end('last');
        expect(client.writable).toBe(false);
        expect(client.write('late')).toBe(false);
        client.end('later');
        await loop.run();
        expect(received.join('')).toBe('last');
        expect(errors).toEqual([]);
      }));

    it('rejects a write of something that is not a string or bytes with ERR_INVALID_ARG', () =>
      withNetLoop(createLoop, async (loop) => {
        const server = await loop.listen({ port: 0 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
        const client = await loop.connect({ port: server.address.port });
        expect(() => client.write(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        client.on({ data: () => undefined, close: () => server.close() });
        client.end();
        await loop.run();
      }));

    it('runs a stream close callback in the close phase, after the check hooks of its iteration', () =>
      withNetLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const check = capabilities.check ? loop.check(() => order.push('check')).start().unref() : undefined;
        const server = await loop.listen({ port: 0 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
        const client = await loop.connect({ port: server.address.port });
        client.on({
          data: () => undefined,
          close: () => {
            order.push('close');
            server.close();
            check?.close();
          },
        });
        loop.callSoon(() => {
          order.push('close() called');
          client.close();
        });
        await loop.run();
        const at = order.indexOf('close() called');
        expect(order.indexOf('close')).toBeGreaterThan(at);
        if (check) expect(order.slice(at).indexOf('check')).toBeLessThan(order.slice(at).indexOf('close'));
      }));

    it('delivers no data that arrived while the loop was not running once the stream was closed', () =>
      withNetLoop(createLoop, async (loop) => {
        const order: string[] = [];
        let serverSide: TcpStream | undefined;
        const server = await loop.listen({ port: 0 }, (stream) => {
          serverSide = stream;
          stream.on({ data: (chunk) => order.push(`data ${Buffer.from(chunk).toString()}`), close: () => order.push('closed') });
          loop.stop(); // accepted: the loop stops before any data can be delivered
        });
        const client = await loop.connect({ port: server.address.port });
        client.on({ data: () => undefined, end: () => client.end() });
        await loop.run();
        expect(serverSide).toBeDefined();
        client.write('unread');
        await sleep(50);
        serverSide?.close();
        client.on({ close: () => server.close() });
        await loop.run();
        expect(order).toEqual(['closed']);
      }));

    it('reads nothing on a stream without a data callback, a close callback alone included: what the peer sent arrives once one is set', () =>
      withNetLoop(createLoop, async (loop) => {
        const order: string[] = [];
        let client: TcpStream | undefined;
        const server = await loop.listen({ port: 0 }, (stream) => {
          const first = loop.timer(() => {
            first.close();
            stream.on({ close: () => order.push('close') });
          });
          first.start(20);
          const later = loop.timer(() => {
            later.close();
            order.push('data callback set');
            stream.on({
              data: (chunk) => {
                order.push(`data ${Buffer.from(chunk).toString()}`);
                deadline.close();
                stream.close();
                client?.close();
                server.close();
              },
            });
          });
          later.start(60);
          // Bytes dropped before the data callback was set would leave the loop waiting for ever.
          const deadline = loop.timer(() => {
            order.push('nothing arrived');
            stream.close();
            client?.close();
            server.close();
          });
          deadline.start(3_000);
        });
        client = await loop.connect({ port: server.address.port });
        client.write('early');
        await loop.run();
        expect(order).toEqual(['data callback set', 'data early', 'close']);
      }));

    it('does not starve I/O: a self-requeueing callSoon chain lets data arrive', () =>
      withNetLoop(createLoop, async (loop) => {
        let spins = 0;
        let arrived = false;
        const server = await loop.listen({ port: 0 }, (stream) => {
          stream.on({
            data: () => {
              arrived = true;
              stream.end();
            },
            end: () => undefined,
          });
        });
        const spin = (): void => {
          spins++;
          if (!arrived) loop.callSoon(spin);
        };
        loop.callSoon(spin);
        const client = await loop.connect({ port: server.address.port });
        client.on({ data: () => undefined, end: () => client.end(), close: () => server.close() });
        client.write('ping');
        await loop.run();
        expect(arrived).toBe(true);
        expect(spins).toBeGreaterThan(1);
      }));

    it('updates now() when an I/O event ends a long idle poll, so timers started there count from the event', () =>
      withNetLoop(createLoop, async (loop) => {
        let lag = -1;
        const server = await loop.listen({ port: 0 }, (stream) => {
          // How far now() is behind the loop's own clock (performance.now() is the clock of
          // Node-hosted backends only; a virtual clock, say, has nothing to do with it).
          const cached = loop.now();
          loop.updateTime();
          lag = loop.now() - cached;
          stream.close(() => server.close());
        });
        const running = loop.run();
        // Let the loop sit in its poll long enough that a stale now() would be obvious.
        await sleep(300);
        const client = await loop.connect({ port: server.address.port });
        client.on({ data: () => undefined, end: () => client.end() });
        await running;
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(150);
      }));

    it('rejects a refused connect with ERR_SOCKET (ECONNREFUSED) and leaks no fd', () =>
      withNetLoop(createLoop, async (loop) => {
        const port = await unusedPort(loop);
        const failure = await loop.connect({ port }).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(SocketError);
        expect((failure as SocketError).errno).toBe('ECONNREFUSED');
      }));

    it('rejects a second listen on a bound port with ERR_SOCKET (EADDRINUSE) and leaks no fd', () =>
      withNetLoop(createLoop, async (loop) => {
        const server = await loop.listen({ port: 0 }, () => undefined);
        const failure = await loop.listen({ port: server.address.port }, () => undefined).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(SocketError);
        expect((failure as SocketError).errno).toBe('EADDRINUSE');
        server.close();
        await loop.run();
      }));

    it('rejects malformed listen and connect options with ERR_INVALID_ARG', () =>
      withNetLoop(createLoop, async (loop) => {
        const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARG' });
        await expect(loop.listen({ port: -1 }, () => undefined)).rejects.toEqual(invalid);
        await expect(loop.listen({ port: 70_000 }, () => undefined)).rejects.toEqual(invalid);
        await expect(loop.listen({ port: 1.5 }, () => undefined)).rejects.toEqual(invalid);
        await expect(loop.listen({ host: '' }, () => undefined)).rejects.toEqual(invalid);
        await expect(loop.listen({ backlog: 0 }, () => undefined)).rejects.toEqual(invalid);
        await expect(loop.connect({ port: 0 })).rejects.toEqual(invalid);
        await expect(loop.connect({} as never)).rejects.toEqual(invalid);
      }));

    it('delivers I/O that arrived while the loop was not running in the next run', () =>
      withNetLoop(createLoop, async (loop) => {
        const order: string[] = [];
        const server = await loop.listen({ port: 0 }, (stream) => {
          order.push('accepted');
          stream.on({ data: (chunk) => order.push(`data ${Buffer.from(chunk).toString()}`), end: () => stream.end() });
        });
        const client = await loop.connect({ port: server.address.port });
        client.write('early');
        client.end();
        // Give the kernel and Node time to deliver; the loop is not running, so nothing may run.
        await sleep(30);
        expect(order).toEqual([]);
        // A stream reads (and so sees the peer's end) only while a data callback is set.
        client.on({ data: () => undefined, close: () => server.close() });
        await loop.run();
        expect(order).toEqual(['accepted', 'data early']);
      }));

    it('an unreferenced stream does not keep the loop alive', () =>
      withNetLoop(createLoop, async (loop) => {
        const server = await loop.listen({ port: 0 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
        server.unref();
        const client = await loop.connect({ port: server.address.port });
        client.unref();
        expect(await loop.run()).toBe(false);
        expect(client.isActive()).toBe(true);
        client.on({ data: () => undefined, close: () => server.close() });
        client.ref();
        server.ref();
        client.end();
        await loop.run();
      }));

    forCapability(capabilities.reusePort, 'reusePort', () => {
      it('binds two listening sockets to one port', () =>
        withNetLoop(createLoop, async (loop) => {
          const first = await loop.listen({ port: 0, reusePort: true }, () => undefined);
          const second = await loop.listen({ port: first.address.port, reusePort: true }, () => undefined);
          expect(second.address.port).toBe(first.address.port);
          first.close();
          second.close();
          await loop.run();
        }));
    }, () => {
      it('listen({ reusePort: true }) rejects with UnsupportedError', () =>
        withNetLoop(createLoop, async (loop) => {
          await expect(loop.listen({ port: 0, reusePort: true }, () => undefined)).rejects.toBeInstanceOf(UnsupportedError);
        }));
    });
  }, () => {
    it('listen() and connect() reject with UnsupportedError', () =>
      withNetLoop(createLoop, async (loop) => {
        await expect(loop.listen({ port: 0 }, () => undefined)).rejects.toBeInstanceOf(UnsupportedError);
        await expect(loop.connect({ port: 1 })).rejects.toBeInstanceOf(UnsupportedError);
      }));
  });
}
