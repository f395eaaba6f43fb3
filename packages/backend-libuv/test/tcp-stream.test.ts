// The libuv backend's TCP streams beyond what the conformance suite pins down: chunks held across
// pause() and resume(), the end held behind them, IPv6 endpoints, bad chunks.
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
