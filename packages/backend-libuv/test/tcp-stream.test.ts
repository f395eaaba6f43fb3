// The libuv backend's TCP streams beyond what the conformance suite pins down: chunks held across
// pause() and resume(), the end held behind them, IPv6 endpoints, bad chunks.
import { connect as netConnect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventLoop, TcpServer, TcpStream } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';

/** A server and a client connected to it on a fresh loop; `onServer` gets the accepted side. */
async function pair(loop: EventLoop, onServer: (stream: TcpStream) => void, host = '127.0.0.1'): Promise<{ server: TcpServer; client: TcpStream }> {
  const server = await loop.listen({ host, port: 0 }, onServer);
  const client = await loop.connect({ host, port: server.address.port });
  return { server, client };
}

describe('libuv backend: tcp streams', () => {
  it('holds the chunks that follow a pause() in a data callback, and the end, until resume(), then delivers them in order', async () => {
    // Also a contract rule; it waits to join the conformance suite until every backend keeps it.
    const loop = createLoop();
    const order: string[] = [];
    let client: TcpStream | undefined;
    const { server, client: connected } = await pair(loop, (stream) => {
      stream.on({
        data: (chunk) => {
          const text = Buffer.from(chunk).toString();
          order.push(`data ${text}`);
          if (text !== 'first') return;
          stream.pause().pause();
          client?.end('second');
          const later = loop.timer(() => {
            later.close();
            order.push('resume');
            stream.resume().resume();
          });
          later.start(50);
        },
        end: () => {
          order.push('end');
          stream.close();
          client?.close();
          server.close();
        },
      });
    });
    client = connected;
    client.write('first');
    await loop.run();
    expect(order).toEqual(['data first', 'resume', 'data second', 'end']);
    loop.close();
  });

  it('delivers nothing held by a paused stream once it is closed', async () => {
    const loop = createLoop();
    const order: string[] = [];
    let client: TcpStream | undefined;
    const { server, client: connected } = await pair(loop, (stream) => {
      stream.on({
        data: (chunk) => {
          order.push(`data ${Buffer.from(chunk).toString()}`);
          stream.pause();
          client?.end('held');
          const later = loop.timer(() => {
            later.close();
            stream.close(() => order.push('closed'));
            stream.resume();
            client?.close();
            server.close();
          });
          later.start(50);
        },
        end: () => order.push('end'),
      });
    });
    client = connected;
    client.write('first');
    await loop.run();
    expect(order).toEqual(['data first', 'closed']);
    loop.close();
  });

  it('reports IPv6 endpoints as IPv6', async () => {
    const loop = createLoop();
    let server: TcpServer | undefined;
    try {
      const connected = await pair(loop, (stream) => stream.close(), '::1');
      server = connected.server;
      expect(server.address).toEqual({ address: '::1', port: expect.any(Number), family: 'IPv6' });
      expect(connected.client.localAddress?.family).toBe('IPv6');
      expect(connected.client.remoteAddress).toEqual({ address: '::1', port: server.address.port, family: 'IPv6' });
      connected.client.close();
    } catch (error) {
      // A machine without IPv6 loopback refuses the bind: that is the only failure allowed here.
      expect((error as { errno?: string }).errno).toMatch(/EADDRNOTAVAIL|EAFNOSUPPORT/);
    }
    server?.close();
    await loop.run();
    loop.close();
  });

  it('refuses a chunk that is neither a string nor bytes, naming its type, and keeps no address once closed', async () => {
    const loop = createLoop();
    const { server, client } = await pair(loop, (stream) => stream.close());
    expect(() => client.write(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: 'data must be a string or a Uint8Array, got number' }));
    expect(() => client.end(null as never)).toThrow(expect.objectContaining({ message: 'data must be a string or a Uint8Array, got null' }));
    expect(client.setNoDelay(false)).toBe(client);
    expect(client.bufferedAmount).toBe(0);
    client.close();
    server.close();
    await loop.run();
    expect(client.localAddress).toBeUndefined();
    expect(client.remoteAddress).toBeUndefined();
    loop.close();
  });
});

describe('libuv backend: what its errors and refusals name', () => {
  it('names the endpoint of a failed connect and of a failed listen, with the errno', async () => {
    const loop = createLoop();
    const taken = await loop.listen({ port: 0 }, () => undefined);
    const port = taken.address.port;
    await expect(loop.listen({ port }, () => undefined)).rejects.toMatchObject({
      code: 'ERR_SOCKET',
      errno: 'EADDRINUSE',
      message: expect.stringContaining(`listen on 127.0.0.1:${port} failed`),
    });
    taken.close();
    await loop.run();
    await expect(loop.connect({ port })).rejects.toMatchObject({
      code: 'ERR_SOCKET',
      errno: 'ECONNREFUSED',
      message: expect.stringContaining(`connect to 127.0.0.1:${port} failed`),
    });
    loop.close();
  });

  it('names its handles by kind when close() refuses', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 0 }, () => undefined);
    const http = await loop.serveHttp({ port: 0 }, (_request, response) => response.end());
    const client = await loop.connect({ port: server.address.port });
    expect(() => loop.close()).toThrow(/1 tcp server, 1 http server, 1 tcp stream|1 tcp server, 1 tcp stream, 1 http server/);
    client.close();
    server.close();
    http.close();
    await loop.run();
    loop.close();
  });
});

/** Reject after `ms` so a broken flow fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what}: nothing within ${ms} ms`)))]);
}

/** A plain Node socket to `port` (not the loop's), connected. */
function peer(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Write `total` bytes of `byte` to `socket` in 64 KiB chunks, then end it. Node counts a chunk
 * out of `writableLength` only once the kernel took all of it: many small chunks show progress.
 */
function upload(socket: Socket, total: number, byte: number): void {
  const chunk = Buffer.alloc(64 * 1024, byte);
  for (let sent = 0; sent < total; sent += chunk.length) socket.write(chunk);
  socket.end();
}

/**
 * Wait until `socket` has stopped sending (its queued amount unchanged for 250 ms) or has sent
 * everything; returns what it still queues. A reader that reads nothing makes TCP flow control
 * stop the writer after a few MiB of kernel buffers.
 */
async function settledQueue(socket: Socket): Promise<number> {
  let last = -1;
  let steady = 0;
  for (let i = 0; i < 200 && socket.writableLength > 0 && steady < 5; i++) {
    await sleep(50);
    steady = socket.writableLength === last ? steady + 1 : 0;
    last = socket.writableLength;
  }
  return socket.writableLength;
}

describe('libuv backend: reading and TCP flow control', () => {
  // That a stream without a data callback reads nothing is the conformance suite's (stream suite).
  const total = 64 * 1024 * 1024; // far more than any kernel buffer on the way holds

  it('stops reading while paused: the peer is held back by TCP flow control, and gets everything after resume()', async () => {
    const loop = createLoop();
    let received = 0;
    let receivedWhilePaused = 0;
    let paused = false;
    let stream: TcpStream | undefined;
    let accepted!: () => void;
    const acceptedPromise = new Promise<void>((resolve) => (accepted = resolve));
    const server = await loop.listen({ port: 0 }, (s) => {
      stream = s;
      s.on({
        data: (chunk) => {
          if (paused) receivedWhilePaused += chunk.length;
          received += chunk.length;
          if (received === chunk.length) {
            paused = true;
            s.pause();
            accepted();
          }
        },
        end: () => {
          s.close();
          server.close();
        },
      });
    });
    const running = loop.run();
    const socket = await peer(server.address.port);
    socket.on('error', () => undefined);
    upload(socket, total, 1);
    await within(acceptedPromise, 5_000, 'the first chunk');
    const queued = await settledQueue(socket);
    expect(queued).toBeGreaterThan(total / 2);
    expect(receivedWhilePaused).toBe(0);
    paused = false;
    loop.callSoon(() => stream?.resume());
    await within(running, 20_000, 'the rest of the data');
    socket.destroy();
    expect(received).toBe(total);
    loop.close();
  });

  it('reads one chunk at most while the loop is not running: the peer is held back until the next run() delivers the rest', async () => {
    const loop = createLoop();
    let received = 0;
    let chunksWhileStopped = 0;
    let stopped = false;
    const server = await loop.listen({ port: 0 }, (stream) => {
      stream.on({
        data: (chunk) => {
          if (stopped) chunksWhileStopped++;
          received += chunk.length;
        },
        end: () => {
          stream.close();
          server.close();
        },
      });
      loop.stop();
    });
    const socket = await peer(server.address.port);
    socket.on('error', () => undefined);
    await loop.run(); // until the connection is accepted
    stopped = true;
    upload(socket, total, 2);
    const queued = await settledQueue(socket);
    expect(queued).toBeGreaterThan(total / 2);
    expect([received, chunksWhileStopped]).toEqual([0, 0]);
    stopped = false;
    await within(loop.run(), 20_000, 'the data after the loop ran again');
    socket.destroy();
    expect(received).toBe(total);
    loop.close();
  });

  it('holds the chunks Node had already read when pause() was called: no data callback runs until resume()', async () => {
    const loop = createLoop();
    const size = 4 * 1024 * 1024;
    let received = 0;
    let callbacksWhilePaused = 0;
    let paused = false;
    const server = await loop.listen({ port: 0 }, (stream) => {
      const resume = loop.timer(() => {
        paused = false;
        stream.resume();
      });
      // The data callback comes once the kernel holds a backlog: libuv then reads up to 32 chunks
      // of 64 KiB in one go, all queued for the loop before the first callback pauses.
      const later = loop.timer(() => {
        later.close();
        stream.on({
          data: (chunk) => {
            if (paused) callbacksWhilePaused++;
            received += chunk.length;
            if (received === chunk.length) {
              paused = true;
              stream.pause();
              resume.start(20);
            }
          },
          end: () => {
            resume.close();
            stream.close();
            server.close();
          },
        });
      });
      later.start(50);
    });
    const socket = await peer(server.address.port);
    socket.on('error', () => undefined);
    upload(socket, size, 3);
    await within(loop.run(), 20_000, 'the whole upload');
    socket.destroy();
    expect([received, callbacksWhilePaused]).toEqual([size, 0]);
    loop.close();
  });
});

describe('libuv backend: closing with events still queued', () => {
  it('runs no end callback for a FIN that had arrived when close() was called', async () => {
    const loop = createLoop();
    const order: string[] = [];
    let accepted: TcpStream | undefined;
    const server = await loop.listen({ port: 0 }, (stream) => {
      accepted = stream;
      stream.on({ data: () => order.push('data'), end: () => order.push('end'), close: () => order.push('close') });
      loop.stop();
    });
    const socket = await peer(server.address.port);
    socket.on('error', () => undefined);
    await loop.run(); // until the connection is accepted
    socket.end();
    await sleep(50); // Node reads the FIN and queues the end for the loop's next run
    accepted?.close();
    server.close();
    await loop.run();
    socket.destroy();
    expect(order).toEqual(['close']);
    loop.close();
  });

  it('names a connection reset by the peer in the close callback’s error: socket error, with the errno', async () => {
    const loop = createLoop();
    let closeError: Error | undefined;
    const server = await loop.listen({ port: 0 }, (stream) => {
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (!stream.isClosing() && stream.write(chunk)) {
          /* until backpressure */
        }
      };
      stream.on({
        drain: pump,
        close: (error) => {
          closeError = error;
          server.close();
        },
      });
      pump();
    });
    const socket = await peer(server.address.port);
    // Closing with unread data in the receive buffer makes the kernel send RST.
    socket.once('data', () => socket.destroy());
    await loop.run();
    expect(closeError?.message).toMatch(/^socket error: (ECONNRESET|EPIPE)$/);
    loop.close();
  });
});

describe('libuv backend: writing after end()', () => {
  it('sends nothing for write() and end() after end(), and closes without an error', async () => {
    const loop = createLoop();
    const received: string[] = [];
    let closeError: unknown = 'not closed';
    const server = await loop.listen({ port: 0 }, (stream) =>
      stream.on({ data: (chunk) => received.push(Buffer.from(chunk).toString()), end: () => stream.end() }),
    );
    const client = await loop.connect({ port: server.address.port });
    client.on({
      data: () => undefined,
      close: (error) => {
        closeError = error;
        server.close();
      },
    });
    client.end('last');
    const late = [client.write('late'), (client.end('later'), client.writable)];
    await loop.run();
    expect([received.join(''), late, closeError]).toEqual(['last', [false, false], undefined]);
    loop.close();
  });
});
