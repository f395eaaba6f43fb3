import { connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpResponse, WebSocketBehavior } from '@loop/core';
import { createLoop } from '../src/index.js';
import { exchange, openFdCount, statuses, withServer, until } from './helpers.js';
import { TestWebSocket } from '@loop/core/conformance';

// Listening, refusing what uWS cannot do, and closing a server with exchanges in flight. Waits
// are for events, never for the machine being fast.

describe('listening', () => {
  it('reports a port in use as ERR_SOCKET naming the address, with the errno in its cause, and leaks no fd', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve));
    const port = (taken.address() as { port: number }).port;
    const fdsBefore = openFdCount();
    const loop = createLoop();
    const error = await loop.serveHttp({ host: '127.0.0.1', port }, (_request, response) => response.end()).then(
      () => 'listened',
      (caught: unknown) => caught,
    );
    loop.close();
    const fdsAfter = openFdCount();
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    expect(error).toMatchObject({ code: 'ERR_SOCKET', message: expect.stringContaining(`listen on 127.0.0.1:${port} failed`) });
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('EADDRINUSE');
    expect(fdsAfter).toBe(fdsBefore);
  });

  it('says which family it listens on: IPv4 for 127.0.0.1, IPv6 for ::1', async () => {
    const families: string[] = [];
    for (const host of ['127.0.0.1', '::1']) {
      const loop = createLoop();
      const server = await loop.serveHttp({ host, port: 0 }, (_request, response) => response.end());
      families.push(`${server.address.address} ${server.address.family}`);
      server.close();
      await loop.run();
      loop.close();
    }
    expect(families).toEqual(['127.0.0.1 IPv4', '::1 IPv6']);
  });

  it('tells a request and a WebSocket the peer’s address as Node writes it (::1, not uWS’s full form) and its family', async () => {
    const seen: string[] = [];
    for (const host of ['127.0.0.1', '::1']) {
      const loop = createLoop();
      const websocket: WebSocketBehavior = {
        open: (socket) => {
          seen.push(`ws ${socket.remoteAddress?.address} ${socket.remoteAddress?.family}`);
          socket.close(1000);
        },
      };
      const server = await loop.serveHttp({ host, port: 0, websocket }, (request, response) => {
        seen.push(`http ${request.remoteAddress?.address} ${request.remoteAddress?.family}`);
        response.end();
      });
      const running = loop.run();
      const socket = connect({ host, port: server.address.port });
      socket.on('error', () => undefined);
      socket.resume();
      socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      await new Promise((resolve) => socket.on('close', resolve));
      const client = await TestWebSocket.open(server.address.port, { host });
      await client.closed;
      server.close();
      await running;
      loop.close();
    }
    expect(seen).toEqual(['http 127.0.0.1 IPv4', 'ws 127.0.0.1 IPv4', 'http ::1 IPv6', 'ws ::1 IPv6']);
  });

  it('accepts the one backlog uSockets has (512), and names it when refusing another', async () => {
    const loop = createLoop();
    const server = await loop.serveHttp({ port: 0, backlog: 512 }, (_request, response) => response.end());
    server.close();
    await loop.run();
    await expect(loop.serveHttp({ port: 0, backlog: 511 }, (_request, response) => response.end())).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED',
      message: expect.stringContaining('uSockets listens with a fixed backlog of 512; got 511'),
    });
    loop.close();
  });
});

describe('closing a server with exchanges in flight', () => {
  it('lets a streamed response finish, says Connection: close, and only then closes', () => {
    let kept: HttpResponse | undefined;
    const order: string[] = [];
    return withServer(
      {},
      (_request, response) => {
        response.write('part one, ');
        kept = response;
      },
      async (server) => {
        const pending = exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n', 30_000);
        await until(() => kept !== undefined);
        server.close(() => order.push('server closed'));
        // Not closed while the response streams: the close callback waits for its end.
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push('ending');
        kept?.end('part two');
        const result = await pending;
        await until(() => order.length === 2);
        expect(order).toEqual(['ending', 'server closed']);
        expect(result.closedByServer).toBe(true);
        expect(result.text.endsWith('a\r\npart one, \r\n8\r\npart two\r\n0\r\n\r\n')).toBe(true);
      },
    );
  });

  it('answers a request whose handler had not answered yet with Connection: close, then closes', () => {
    let kept: HttpResponse | undefined;
    const order: string[] = [];
    return withServer(
      {},
      (_request, response) => {
        kept = response;
      },
      async (server) => {
        const pending = exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n', 30_000);
        await until(() => kept !== undefined);
        server.close(() => order.push('server closed'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push('answering');
        kept?.respond(200, {}, 'late');
        const result = await pending;
        await until(() => order.length === 2);
        expect(order).toEqual(['answering', 'server closed']);
        expect(statuses(result.text)).toEqual([200]);
        expect(result.text).toContain('Connection: close');
        expect(result.text.endsWith('late')).toBe(true);
      },
    );
  });

  it('closes at once, with no exchange in flight, dropping idle keep-alive connections', () => {
    const order: string[] = [];
    return withServer(
      {},
      (_request, response) => response.end('ok'),
      async (server) => {
        const idle = exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n', 30_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
        server.close(() => order.push('server closed'));
        const result = await idle;
        await until(() => order.length === 1);
        expect(statuses(result.text)).toEqual([200]);
        expect(result.closedByServer).toBe(true);
      },
    );
  });

  it('tells a handler whose client left before the answer: aborted, then the response’s close, once each', () => {
    const log: string[] = [];
    let kept: HttpResponse | undefined;
    return withServer(
      {},
      (request, response) => {
        request.on({ aborted: () => log.push('aborted') });
        response.on({ close: () => log.push('close') });
        kept = response;
      },
      async (server) => {
        const socket = connect({ host: '127.0.0.1', port: server.address.port });
        socket.on('error', () => undefined);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => kept !== undefined);
        socket.destroy();
        await until(() => log.length >= 2);
        expect(kept?.write('too late')).toBe(false);
        kept?.end('too late');
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(log).toEqual(['aborted', 'close']);
        expect(kept?.aborted).toBe(true);
      },
    );
  });
});
