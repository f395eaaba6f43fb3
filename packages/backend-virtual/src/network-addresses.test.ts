import { describe, expect, it } from 'vitest';
import type { SocketError, TcpServer, TcpStream } from '@loop/core';
import { createLoop, type VirtualLoop } from './index.js';

const FIRST_EPHEMERAL = 49152;
const noConnection = (): void => undefined;

/** A server that ends each connection once the peer has. */
function echoEnd(stream: TcpStream): void {
  stream.on({ data: () => undefined, end: () => stream.end() });
}

/** `listen`'s error as `code errno: message`, or the port it got. */
async function tryListen(loop: VirtualLoop, options: { host?: string; port: number; reusePort?: boolean }): Promise<string | TcpServer> {
  return loop.listen(options, echoEnd).catch((error: unknown) => `${(error as SocketError).code} ${(error as SocketError).errno}: ${(error as Error).message}`);
}

/** Connect, end at once, and resolve with the address the server saw (or the error's errno). */
function connectAndEnd(loop: VirtualLoop, host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    loop.connect({ host, port }, (error, stream) => {
      if (error || !stream) {
        resolve(`${(error as SocketError).errno}`);
        return;
      }
      resolve(`${stream.remoteAddress?.address}:${stream.remoteAddress?.port}`);
      stream.on({ data: () => undefined });
      stream.end();
    });
  });
}

describe('virtual network addresses', () => {
  it('hands out ephemeral ports from 49152 up, skipping bound ones, wrapping after 65535, and fails with EADDRNOTAVAIL once none is free', async () => {
    const loop = createLoop();
    const ports = (servers: TcpServer[]): number[] => servers.map((server) => server.address.port);
    const first = await loop.listen({ port: 0 }, noConnection);
    const second = await loop.listen({ port: 0 }, noConnection);
    expect(ports([first, second])).toEqual([FIRST_EPHEMERAL, FIRST_EPHEMERAL + 1]);
    // Hold every port from 49155 to 65534: 49154 and 65535 stay free.
    const held: Promise<TcpServer>[] = [];
    for (let port = FIRST_EPHEMERAL + 3; port < 65535; port++) held.push(loop.listen({ port }, noConnection));
    const servers = await Promise.all(held);
    const third = await loop.listen({ port: 0 }, noConnection);
    const fourth = await loop.listen({ port: 0 }, noConnection);
    expect(ports([third, fourth])).toEqual([FIRST_EPHEMERAL + 2, 65535]);
    // A closed listener's port is free again, and the search wraps around to find it.
    first.close();
    const wrapped = await loop.listen({ port: 0 }, noConnection);
    expect(wrapped.address.port).toBe(FIRST_EPHEMERAL);
    // The only free port is the one just before where the search starts: it takes every try to find it.
    wrapped.close();
    const last = await loop.listen({ port: 0 }, noConnection);
    expect(last.address.port).toBe(FIRST_EPHEMERAL);
    // Every ephemeral port is taken: a listen on port 0 and a connect (it needs a local port) fail.
    expect(await tryListen(loop, { port: 0 })).toBe('ERR_SOCKET EADDRNOTAVAIL: no free ephemeral port: EADDRNOTAVAIL');
    const refused = await loop.connect({ port: 65535 }).catch((error: unknown) => `${(error as SocketError).errno}`);
    expect(refused).toBe('EADDRNOTAVAIL');
    for (const server of [second, third, fourth, last, ...servers]) server.close();
    await loop.run();
    loop.close();
  });

  it('reaches a wildcard listener (0.0.0.0 or ::) at any host name or address', async () => {
    const loop = createLoop();
    const seen: string[] = [];
    const record = (stream: TcpStream): void => {
      seen.push(`${stream.localAddress?.address}:${stream.localAddress?.port}`);
      echoEnd(stream);
    };
    const servers = [await loop.listen({ host: '0.0.0.0', port: 7000 }, record), await loop.listen({ host: '::', port: 7001 }, record)];
    const running = loop.run();
    expect(await connectAndEnd(loop, 'db.internal', 7000)).toBe('db.internal:7000');
    expect(await connectAndEnd(loop, '::1', 7001)).toBe('::1:7001');
    for (const server of servers) server.close();
    await running;
    expect(seen).toEqual(['db.internal:7000', '::1:7001']);
    loop.close();
  });

  it('sends a connection to the listener of its own host when other hosts listen on the same port, and refuses it when its host has none', async () => {
    const loop = createLoop({ seed: 5 });
    const seen: string[] = [];
    const servers = await Promise.all(
      ['127.0.0.1', 'db.internal', 'cache.internal'].map((host) =>
        loop.listen({ host, port: 7000 }, (stream) => {
          seen.push(`${host} got ${stream.localAddress?.address}`);
          echoEnd(stream);
        }),
      ),
    );
    const running = loop.run();
    for (const host of ['db.internal', 'cache.internal', 'localhost', 'db.internal', 'cache.internal', '127.0.0.1']) await connectAndEnd(loop, host, 7000);
    expect(await connectAndEnd(loop, 'other.internal', 7000)).toBe('ECONNREFUSED'); // a host nobody listens on
    for (const server of servers) server.close();
    await running;
    expect(seen).toEqual([
      'db.internal got db.internal',
      'cache.internal got cache.internal',
      '127.0.0.1 got 127.0.0.1',
      'db.internal got db.internal',
      'cache.internal got cache.internal',
      '127.0.0.1 got 127.0.0.1',
    ]);
    loop.close();
  });

  it('refuses a wildcard bind over any host of its port, and shares a port only between reusePort listeners of the same address', async () => {
    const loop = createLoop();
    const open: TcpServer[] = [];
    const attempt = async (options: { host?: string; port: number; reusePort?: boolean }): Promise<string> => {
      const result = await tryListen(loop, options);
      if (typeof result === 'string') return result;
      open.push(result);
      return 'ok';
    };
    expect(await attempt({ host: '::', port: 7000 })).toBe('ok');
    expect(await attempt({ host: '::1', port: 7000 })).toBe('ERR_SOCKET EADDRINUSE: listen on ::1:7000 failed: EADDRINUSE');
    expect(await attempt({ host: 'db.internal', port: 7001 })).toBe('ok');
    expect(await attempt({ host: '0.0.0.0', port: 7001 })).toBe('ERR_SOCKET EADDRINUSE: listen on 0.0.0.0:7001 failed: EADDRINUSE');
    expect(await attempt({ host: '127.0.0.1', port: 7002, reusePort: true })).toBe('ok');
    expect(await attempt({ host: '0.0.0.0', port: 7002, reusePort: true })).toBe('ERR_SOCKET EADDRINUSE: listen on 0.0.0.0:7002 failed: EADDRINUSE');
    expect(await attempt({ host: 'db.internal', port: 7002, reusePort: true })).toBe('ok'); // another host: no overlap
    expect(await attempt({ host: '127.0.0.1', port: 7002, reusePort: true })).toBe('ok');
    for (const server of open) server.close();
    await loop.run();
    loop.close();
  });

  it('gives bind and connect errors a system-like cause: errno as code, and the message with it', async () => {
    const loop = createLoop();
    const server = await loop.listen({ port: 7000 }, noConnection);
    const bind = (await loop.listen({ port: 7000 }, noConnection).catch((error: unknown) => error)) as SocketError;
    expect(bind.cause).toEqual(expect.objectContaining({ code: 'EADDRINUSE', message: 'listen on 127.0.0.1:7000 failed: EADDRINUSE' }));
    const running = loop.run();
    const connect = (await loop.connect({ host: 'db.internal', port: 9 }).catch((error: unknown) => error)) as SocketError;
    expect(connect.message).toBe('connect to db.internal:9 failed: ECONNREFUSED');
    expect(connect.cause).toEqual(expect.objectContaining({ code: 'ECONNREFUSED', message: 'connect to db.internal:9 failed: ECONNREFUSED' }));
    server.close();
    await running;
    loop.close();
  });

  it('keeps a port shared with reusePort open while one of its listeners remains', async () => {
    const loop = createLoop();
    const accepted: string[] = [];
    const listeners = await Promise.all(
      ['first', 'second'].map((name) =>
        loop.listen({ port: 7000, reusePort: true }, (stream) => {
          accepted.push(name);
          echoEnd(stream);
        }),
      ),
    );
    listeners[0]?.close();
    const running = loop.run();
    expect(await connectAndEnd(loop, '127.0.0.1', 7000)).toMatch(/^127\.0\.0\.1:/);
    listeners[1]?.close();
    expect(await connectAndEnd(loop, '127.0.0.1', 7000)).toBe('ECONNREFUSED');
    await running;
    expect(accepted).toEqual(['second']);
    loop.close();
  });
});
