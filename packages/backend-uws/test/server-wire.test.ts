import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpHandler, HttpRequest } from '@loop/core';
import { createLoop } from '../src/index.js';
import { exchange, withServer, until } from './helpers.js';

// What the server itself says and does, outside any handler: the answer to a refused head, the
// fixed limits it names when refusing another value, what loop.close() calls it, when it stops
// accepting, and a handler's return value. Waits are for events, never for the machine being fast.

/** Whether a fresh TCP connection to `port` is accepted or refused. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

const ok: HttpHandler = (_request, response) => response.respond(200, {}, 'ok');

describe('the server’s own answers', () => {
  const refusals: [string, string, string][] = [
    ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', '400 Bad Request'],
    ['a URL past maxUrlLength', `GET /${'u'.repeat(40)} HTTP/1.1\r\nHost: t\r\n\r\n`, '414 URI Too Long'],
    ['a transfer coding it does not implement', 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', '501 Not Implemented'],
  ];
  for (const [what, request, status] of refusals) {
    it(`refuses ${what} with "${status}", text/plain, and the reason phrase as the body`, () =>
      withServer({ maxUrlLength: 32 }, ok, async (server) => {
        const answer = await exchange(server.address.port, request);
        const phrase = status.slice(4);
        expect(answer.text).toMatch(new RegExp(`^HTTP/1\\.1 ${status}\\r\\n`));
        expect(answer.text).toMatch(/\r\nContent-Type: text\/plain\r\n/);
        expect(answer.text.endsWith(`\r\n\r\n${phrase}\n`)).toBe(true);
      }));
  }

  it('names the backend and why when asked for another value of a limit uWS fixes', async () => {
    const loop = createLoop();
    const refused = await loop.serveHttp({ port: 0, maxHeaderSize: 8192 }, ok).then(
      () => 'served',
      (error: unknown) => error,
    );
    loop.close();
    expect(refused).toMatchObject({
      code: 'ERR_UNSUPPORTED',
      backend: 'uws',
      message: "backend 'uws' does not support 'httpLimits.maxHeaderSize': maxHeaderSize is fixed at 4096 (uWebSockets.js 20.30 fixes it for the process at build time); got 8192",
    });
  });

  it('counts as one "http server" among the handles that keep loop.close() from closing', async () => {
    const loop = createLoop();
    const server = await loop.serveHttp({ port: 0 }, ok);
    let refused: unknown;
    try {
      loop.close();
    } catch (error) {
      refused = error;
    }
    server.close();
    await loop.run();
    loop.close();
    expect(refused).toMatchObject({ code: 'ERR_LOOP_BUSY', message: expect.stringContaining('(1 http server;') });
  });
});

describe('listening on a name', () => {
  it('reports a host name that does not resolve as ERR_SOCKET naming it, with the resolver’s error as cause', async () => {
    const loop = createLoop();
    const refused = await loop.serveHttp({ host: 'no-such-host.invalid', port: 0 }, ok).then(
      () => 'served',
      (error: unknown) => error,
    );
    loop.close();
    expect(refused).toMatchObject({ code: 'ERR_SOCKET', message: expect.stringMatching(/^listen on no-such-host\.invalid:0 failed/) });
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain((refused as { cause?: { code?: string } }).cause?.code);
  });
});

describe('closing and handler results', () => {
  it('answers 500 for a handler that throws when its request was queued (the loop was not running), and goes on', async () => {
    const loop = createLoop({ onError: (error) => errors.push(error) });
    const errors: unknown[] = [];
    const server = await loop.serveHttp({ port: 0 }, (request, response) => {
      if (request.url === '/throw') throw new Error('queued handler');
      response.end('ok');
    });
    const port = server.address.port;
    const thrown = exchange(port, 'GET /throw HTTP/1.1\r\nHost: t\r\n\r\n');
    // uWS reads the head from Node's loop meanwhile; read later, it would run at once instead (the
    // expectations hold either way).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const running = loop.run();
    const answer = await thrown;
    const next = await exchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    server.close();
    await running;
    loop.close();
    expect(answer.text).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(answer.closedByServer).toBe(true);
    expect(next.text.endsWith('ok')).toBe(true);
    expect(errors.map((error) => (error as Error).message)).toEqual(['queued handler']);
  });

  it('stops accepting connections as soon as close() is called, while a response is still in flight', () => {
    let held: (() => void) | undefined;
    return withServer(
      {},
      (request, response) => {
        if (request.url === '/hold') held = () => response.respond(200, {}, 'held');
        else response.respond(200, {}, 'ok');
      },
      async (server) => {
        const port = server.address.port;
        expect(await tryConnect(port)).toBe('connected');
        const holder = exchange(port, 'GET /hold HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => held !== undefined);
        server.close();
        expect(await tryConnect(port)).toBe('ECONNREFUSED');
        held?.();
        expect((await holder).text.endsWith('held')).toBe(true);
      },
    );
  });

  it('lets the request of a handler that throws expire like any other', () => {
    let kept: HttpRequest | undefined;
    return withServer(
      {},
      (request) => {
        kept = request;
        throw new Error('thrown');
      },
      async (server, _loop, errors) => {
        const answer = await exchange(server.address.port, 'GET /kept HTTP/1.1\r\nHost: t\r\n\r\n');
        expect(answer.text).toMatch(/^HTTP\/1\.1 500 /);
        expect(errors.map((error) => (error as Error).message)).toEqual(['thrown']);
        let read: unknown;
        try {
          read = kept?.url;
        } catch (error) {
          read = (error as { code?: string }).code;
        }
        expect(read).toBe('ERR_REQUEST_EXPIRED');
      },
    );
  });

  it('serves a handler that returns a value that is not a promise (plain JavaScript) like one that returns nothing', () =>
    withServer(
      {},
      ((_request: Parameters<HttpHandler>[0], response: Parameters<HttpHandler>[1]) => {
        response.respond(200, {}, 'returned 42');
        return 42;
      }) as unknown as HttpHandler,
      async (server, _loop, errors) => {
        const first = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        const second = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect([first.text.endsWith('returned 42'), second.text.endsWith('returned 42')]).toEqual([true, true]);
        expect(errors).toEqual([]);
      },
    ));
});
