import { describe, expect, it } from 'vitest';
import type { EventLoopError, SocketError, TcpServer, TcpStream } from '@loop/core';
import { createLoop, type VirtualLoop } from './index.js';

/** The errno of a stream's close error, or 'clean'. */
function closeCause(error: EventLoopError | undefined): string {
  return error === undefined ? 'clean' : `${error.code} ${(error as SocketError).errno}`;
}

/** Connect in callback form; resolves with the stream (the loop must be running or run next). */
function connectTo(loop: VirtualLoop, port: number, host?: string): Promise<TcpStream> {
  return new Promise((resolve, reject) => loop.connect(host === undefined ? { port } : { host, port }, (error, stream) => (error ? reject(error) : resolve(stream as TcpStream))));
}

describe('virtual network', () => {
  it('delivers the handshake and every packet one link latency later', async () => {
    const loop = createLoop({ link: { latency: 25 } });
    const log: string[] = [];
    const server = await loop.listen({ port: 7000 }, (stream) => {
      log.push(`accepted at ${loop.now()}`);
      stream.on({
        data: (chunk) => {
          log.push(`server got ${Buffer.from(chunk).toString()} at ${loop.now()}`);
          stream.write('pong');
        },
        end: () => stream.end(),
      });
    });
    loop.connect({ port: 7000 }, (error, client) => {
      if (error || !client) throw error ?? new Error('no stream');
      log.push(`connected at ${loop.now()}`);
      client.on({
        data: (chunk) => {
          log.push(`client got ${Buffer.from(chunk).toString()} at ${loop.now()}`);
          client.end();
        },
        close: () => server.close(),
      });
      client.write('ping');
    });
    await loop.run();
    expect(log).toEqual(['accepted at 25', 'connected at 50', 'server got ping at 75', 'client got pong at 100']);
    loop.close();
  });

  it('refuses a connection to a port nobody listens on, after one round trip', async () => {
    const loop = createLoop({ link: { latency: 10 } });
    let outcome = '';
    loop.connect({ port: 9 }, (error) => {
      outcome = `${(error as SocketError).errno} at ${loop.now()}`;
    });
    await loop.run();
    expect(outcome).toBe('ECONNREFUSED at 20');
    loop.close();
  });

  it('carries data at the link bandwidth: 1 MB at 1 MB/s arrives over one virtual second', async () => {
    const loop = createLoop({ link: { bandwidth: 1_000_000 } });
    const total = 1_000_000;
    const server = await loop.listen({ port: 7000 }, (stream) => {
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          const size = Math.min(64 * 1024, total - sent);
          sent += size;
          if (!stream.write(Buffer.alloc(size, 1))) return;
        }
        stream.end();
      };
      stream.on({ drain: pump, data: () => undefined });
      pump();
    });
    const client = await loop.connect({ port: 7000 });
    let received = 0;
    let endedAt = -1;
    client.on({
      data: (chunk) => (received += chunk.length),
      end: () => {
        endedAt = loop.now();
        client.end();
      },
      close: () => server.close(),
    });
    await loop.run();
    expect(received).toBe(total);
    expect(endedAt).toBeCloseTo(1_000, 6);
    loop.close();
  });

  it('returns false from write() over the high-water mark while the peer does not read, and drains once it reads', async () => {
    const loop = createLoop();
    const log: string[] = [];
    let serverSide: TcpStream | undefined;
    const server = await loop.listen({ port: 7000 }, (stream) => {
      serverSide = stream; // not reading yet: the window fills
    });
    const client = await loop.connect({ port: 7000 });
    const writes: boolean[] = [];
    for (let i = 0; i < 3; i++) writes.push(client.write(Buffer.alloc(64 * 1024)));
    expect(writes).toEqual([true, true, false]); // 128 KiB fill the window, the rest waits
    expect(client.bufferedAmount).toBe(64 * 1024);
    let received = 0;
    client.on({
      data: () => undefined,
      drain: () => {
        log.push(`drain at ${loop.now()} with ${client.bufferedAmount} buffered`);
        client.end();
      },
      close: () => server.close(),
    });
    loop
      .timer((timer) => {
        timer.close();
        log.push(`reading from ${loop.now()}`);
        serverSide?.on({ data: (chunk) => (received += chunk.length), end: () => serverSide?.end() });
      })
      .start(1_000);
    await loop.run();
    expect(log).toEqual(['reading from 1000', 'drain at 1000 with 0 buffered']);
    expect(received).toBe(3 * 64 * 1024);
    loop.close();
  });

  it('pause() stops delivery and resume() delivers what waited, in order', async () => {
    const loop = createLoop();
    const got: string[] = [];
    const server = await loop.listen({ port: 7000 }, (stream) => {
      stream.on({
        data: (chunk) => {
          got.push(`${Buffer.from(chunk).toString()} at ${loop.now()}`);
          if (got.length === 1) {
            stream.pause();
            loop.timer((timer) => (timer.close(), stream.resume())).start(500);
          }
        },
        end: () => stream.end(),
      });
    });
    const client = await loop.connect({ port: 7000 });
    client.on({ data: () => undefined, close: () => server.close() });
    client.write('a');
    client.write('b');
    client.end('c');
    await loop.run();
    expect(got).toEqual(['a at 0', 'b at 500', 'c at 500']);
    loop.close();
  });

  it('closing with unread data resets the peer; closing without sends a FIN', async () => {
    const loop = createLoop();
    const closes: string[] = [];
    let accepted = 0;
    const server = await loop.listen({ port: 7000 }, (stream) => {
      const which = accepted++ === 0 ? 'unread' : 'read';
      stream.on({ end: () => stream.end(), close: (error) => closes.push(`${which}: ${closeCause(error)}`) });
      stream.write('for you');
    });
    const unread = await loop.connect({ port: 7000 }); // never reads: 'for you' stays unread
    const read = await loop.connect({ port: 7000 });
    read.on({
      data: () => read.close(), // nothing left unread once this chunk is delivered
    });
    loop.timer((timer) => (timer.close(), unread.close())).start(10);
    loop.timer((timer) => (timer.close(), server.close())).start(20);
    await loop.run();
    expect(closes.sort()).toEqual(['read: clean', 'unread: ERR_SOCKET ECONNRESET']);
    loop.close();
  });

  it('answers data sent to a closed socket with a reset', async () => {
    const loop = createLoop();
    let serverClose = '';
    const server = await loop.listen({ port: 7000 }, (stream) => {
      stream.on({
        data: () => undefined,
        end: () => stream.write('too late'), // half-open: writing after the peer's FIN is allowed
        close: (error) => {
          serverClose = closeCause(error);
          server.close();
        },
      });
    });
    const client = await loop.connect({ port: 7000 });
    client.close();
    await loop.run();
    expect(serverClose).toBe('ERR_SOCKET ECONNRESET');
    loop.close();
  });

  it('resets connections a listener closed before accepting them', async () => {
    const loop = createLoop();
    let accepted = 0;
    const server = await loop.listen({ port: 7000 }, () => accepted++);
    const client = await loop.connect({ port: 7000 }); // connected by the kernel, not yet accepted
    server.close();
    let clientClose = '';
    client.on({ data: () => undefined, close: (error) => (clientClose = closeCause(error)) });
    await loop.run();
    expect(accepted).toBe(0);
    expect(clientClose).toBe('ERR_SOCKET ECONNRESET');
    loop.close();
  });

  it('drops a SYN on a full accept queue and the client sends it again a second later', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 7000, backlog: 1 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
    const connectedAt: number[] = [];
    loop.callSoon(() => {
      for (let i = 0; i < 2; i++) {
        loop.connect({ port: 7000 }, (error, stream) => {
          if (error || !stream) throw error ?? new Error('no stream');
          connectedAt.push(loop.now());
          stream.on({ data: () => undefined, close: () => connectedAt.length === 2 && server.close() });
          stream.end();
        });
      }
    });
    await loop.run();
    expect(connectedAt).toEqual([0, 1_000]);
    loop.close();
  });

  it('gives up with ETIMEDOUT when the sixth retransmitted SYN is dropped too', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 7000, backlog: 1 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
    // Eight SYNs at once on a queue of one: the dropped ones are sent again together, so one
    // more gets through per retransmission (after 1, 2, 4, 8, 16 and 32 s), and the last fails.
    const outcomes: string[] = [];
    loop.callSoon(() => {
      for (let i = 0; i < 8; i++) {
        loop.connect({ port: 7000 }, (error, stream) => {
          outcomes.push(error ? `${(error as SocketError).errno} at ${loop.now()}` : `connected at ${loop.now()}`);
          stream?.on({ data: () => undefined });
          stream?.end();
          if (outcomes.length === 8) server.close();
        });
      }
    });
    await loop.run();
    // The last two settle at the same instant, in an order the seed picks.
    expect(outcomes.sort()).toEqual(['ETIMEDOUT at 63000', 'connected at 0', 'connected at 1000', 'connected at 15000', 'connected at 3000', 'connected at 31000', 'connected at 63000', 'connected at 7000']);
    loop.close();
  });

  it('lends each chunk for the data callback only: its bytes are zeroed afterwards', async () => {
    const loop = createLoop();
    let kept: Uint8Array | undefined;
    let copy = '';
    const server = await loop.listen({ port: 7000 }, (stream) => {
      stream.on({
        data: (chunk) => {
          kept = chunk; // a bug: the chunk is borrowed
          copy = Buffer.from(chunk).toString();
        },
        end: () => stream.end(),
      });
    });
    const client = await loop.connect({ port: 7000 });
    client.on({ data: () => undefined, close: () => server.close() });
    client.end('hello');
    await loop.run();
    expect(copy).toBe('hello');
    expect([...(kept as Uint8Array)]).toEqual([0, 0, 0, 0, 0]);
    loop.close();
  });

  it('reports a throwing data callback and still delivers the chunks after it', async () => {
    const errors: unknown[] = [];
    const loop = createLoop({ onError: (error, phase) => errors.push(`${phase}: ${(error as Error).message}`) });
    const got: string[] = [];
    const server = await loop.listen({ port: 7000 }, (stream) => {
      stream.on({
        data: (chunk) => {
          const text = Buffer.from(chunk).toString();
          got.push(text);
          if (text === 'a') throw new Error('bad chunk');
        },
        end: () => stream.end(),
      });
    });
    const client = await loop.connect({ port: 7000 });
    client.on({ data: () => undefined, close: () => server.close() });
    client.write('a');
    client.end('b');
    await loop.run();
    expect(got).toEqual(['a', 'b']);
    expect(errors).toEqual(['poll: bad chunk']);
    loop.close();
  });

  it('reaches listeners by name: localhost is 127.0.0.1, other names are virtual hosts, IPv6 stays IPv6', async () => {
    const loop = createLoop();
    const servers: TcpServer[] = [];
    const seen: string[] = [];
    const handler = (stream: TcpStream): void => {
      const local = stream.localAddress;
      const remote = stream.remoteAddress;
      seen.push(`${local?.address}:${local?.port} ${local?.family} from ${remote?.address}`);
      stream.on({ data: () => undefined, end: () => stream.end() });
    };
    servers.push(await loop.listen({ host: '127.0.0.1', port: 7000 }, handler));
    servers.push(await loop.listen({ host: 'db.internal', port: 5432 }, handler));
    servers.push(await loop.listen({ host: '::1', port: 7000 }, handler));
    const clients = [await loop.connect({ host: 'localhost', port: 7000 }), await loop.connect({ host: 'db.internal', port: 5432 }), await loop.connect({ host: '::1', port: 7000 })];
    let open = clients.length;
    for (const client of clients) {
      client.on({ data: () => undefined, close: () => --open === 0 && servers.forEach((server) => server.close()) });
      client.end();
    }
    await loop.run();
    expect(seen.sort()).toEqual(['127.0.0.1:7000 IPv4 from 127.0.0.1', '::1:7000 IPv6 from ::1', 'db.internal:5432 IPv4 from 127.0.0.1']);
    loop.close();
  });

  it('refuses overlapping binds with EADDRINUSE, a wildcard over a specific address included', async () => {
    const loop = createLoop();
    const first = await loop.listen({ host: '127.0.0.1', port: 7000 }, () => undefined);
    const failures: string[] = [];
    for (const options of [{ port: 7000 }, { host: '0.0.0.0', port: 7000 }, { port: 7000, reusePort: true }]) {
      const error = await loop.listen(options, () => undefined).catch((caught: unknown) => caught as SocketError);
      failures.push(`${(error as SocketError).code} ${(error as SocketError).errno}`);
    }
    expect(failures).toEqual(Array(3).fill('ERR_SOCKET EADDRINUSE'));
    first.close();
    await loop.run();
    loop.close();
  });

  it('spreads connections over listeners that share a port with reusePort, the same way for the same seed', async () => {
    const split = async (seed: number): Promise<number[]> => {
      const loop = createLoop({ seed });
      const counts = [0, 0];
      const servers = [0, 1].map((i) =>
        loop.listen({ port: 7000, reusePort: true }, (stream) => {
          counts[i] = (counts[i] as number) + 1;
          stream.on({ data: () => undefined, end: () => stream.end() });
        }),
      );
      const listening = await Promise.all(servers);
      let open = 40;
      loop.callSoon(() => {
        for (let i = 0; i < 40; i++) {
          loop.connect({ port: 7000 }, (_error, stream) => {
            stream?.on({ data: () => undefined, close: () => --open === 0 && listening.forEach((server) => server.close()) });
            stream?.end();
          });
        }
      });
      await loop.run();
      loop.close();
      return counts;
    };
    const first = await split(3);
    expect(first[0]).toBeGreaterThan(0);
    expect(first[1]).toBeGreaterThan(0);
    expect((first[0] as number) + (first[1] as number)).toBe(40);
    expect(await split(3)).toEqual(first);
  });

  it('uses the most specific link for new connections; open connections keep theirs', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 7000 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
    const other = await loop.listen({ port: 7001 }, (stream) => stream.on({ data: () => undefined, end: () => stream.end() }));
    const times: string[] = [];
    const timedConnect = async (port: number, label: string): Promise<TcpStream> => {
      const start = loop.now();
      const stream = await connectTo(loop, port);
      times.push(`${label} ${loop.now() - start}`);
      return stream;
    };
    loop.setLink({ port: 7000 }, { latency: 50 });
    const running = loop.run();
    const slow = await timedConnect(7000, 'port link');
    loop.setLink({ host: '127.0.0.1', port: 7000 }, { latency: 5 });
    const fast = await timedConnect(7000, 'host and port link');
    const plain = await timedConnect(7001, 'default link');
    // The first connection still has its 50 ms link: its FIN and the answering FIN take 100 ms.
    const closedAt: string[] = [];
    for (const [label, stream] of [['slow', slow], ['fast', fast], ['plain', plain]] as const) {
      const start = loop.now();
      stream.on({
        data: () => undefined,
        close: () => {
          closedAt.push(`${label} ${loop.now() - start}`);
          if (closedAt.length === 3) {
            server.close();
            other.close();
          }
        },
      });
      stream.end();
    }
    await running;
    expect(times).toEqual(['port link 100', 'host and port link 10', 'default link 0']);
    expect(closedAt.sort()).toEqual(['fast 10', 'plain 0', 'slow 100']);
    loop.close();
  });
});
