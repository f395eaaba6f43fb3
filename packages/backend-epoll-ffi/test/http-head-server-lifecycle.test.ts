import type { HttpHandler } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';
import { openFdCount, openSocket, serve, within } from './http-helpers.js';

describe('the http server handle', () => {
  it('is named "http server" when loop.close() refuses to close a loop that still has one', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop({ trigger: 'level' });
    const server = await loop.serveHttp({ port: 0 }, (_request, response) => response.respond(204));
    let refusal: (Error & { code?: string }) | undefined;
    try {
      loop.close();
    } catch (error) {
      refusal = error as Error & { code?: string };
    }
    expect(refusal?.code).toBe('ERR_LOOP_BUSY');
    expect(refusal?.message).toContain('(1 http server;');
    server.close();
    await within(loop.run(), 10_000, 'loop to finish after server.close()');
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('closes an idle keep-alive connection as soon as the server closes, long before its keep-alive timeout', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop({ trigger: 'level' });
    const server = await loop.serveHttp({ port: 0, keepAliveTimeout: 600_000 }, (_request, response) => response.respond(200, {}, 'ok'));
    const running = loop.run();
    const socket = await openSocket(server.address.port);
    const order: string[] = [];
    let received = '';
    const ended = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.endsWith('\r\n\r\nok') && !order.includes('response')) {
          order.push('response');
          server.close(() => order.push('server closed'));
        }
      });
      socket.on('end', () => {
        order.push('end');
        socket.end();
        resolve();
      });
    });
    socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await within(ended, 10_000, 'the idle connection to be closed by server.close()');
    await within(running, 10_000, 'loop to finish after server.close()');
    socket.destroy();
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: keep-alive\r\n[^]*\r\n\r\nok$/);
    expect([...order].sort()).toEqual(['end', 'response', 'server closed']);
    loop.close();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('answers normally and reports nothing when a handler returns a value that is not a promise', async () => {
    const handler = ((...[, response]: Parameters<HttpHandler>) => {
      response.respond(200, {}, 'ok');
      return 42;
    }) as unknown as HttpHandler;
    await serve('level', {}, handler, async ({ send, errors }) => {
      const responses = await send('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      expect(responses.map((r) => [r.status, r.body])).toEqual([[200, 'ok']]);
      expect(errors).toEqual([]);
    });
  });
});
