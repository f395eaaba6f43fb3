import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';
import { exchange, statuses, withServer } from './helpers.js';

// uWebSockets.js's own rules (request valid during its callback, body chunks detached after
// theirs, onAborted for a late answer, cork after an asynchronous gap, no body for HEAD/204)
// kept by the backend, so that the user meets none of them.
describe('uWS rules kept by the backend', () => {
  it('hands out a body chunk borrowed from uWS: valid in the callback, detached after it (zero copy)', () => {
    const lengths: [number, number][] = [];
    return withServer(
      {},
      (request, response) => {
        let kept: Uint8Array | undefined;
        request.on({
          data: (chunk) => {
            kept = chunk;
            lengths.push([chunk.byteLength, -1]);
          },
          end: () => {
            (lengths[0] as [number, number])[1] = kept?.byteLength ?? -1;
            response.end('ok');
          },
        });
      },
      async (server) => {
        const result = await exchange(server.address.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
        expect(statuses(result.text)).toEqual([200]);
        expect(lengths).toEqual([[5, 0]]);
      },
    );
  });

  it('queues a request that arrives while the loop is not running, with its head copied, for the next run', async () => {
    const loop = createLoop();
    const seen: string[] = [];
    const server = await loop.serveHttp({ port: 0 }, (request, response) => {
      seen.push(`${request.method} ${request.url} ${request.header('x-tag') ?? '-'} ${request.remoteAddress?.address ?? '-'}`);
      response.respond(200, {}, 'late');
    });
    const pending = exchange(server.address.port, 'GET /early?q=1 HTTP/1.1\r\nHost: t\r\nX-Tag: kept\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100)); // uWS got it; the loop is not running
    expect(seen).toEqual([]);
    const running = loop.run();
    const result = await pending;
    expect(statuses(result.text)).toEqual([200]);
    expect(seen).toEqual(['GET /early?q=1 kept 127.0.0.1']);
    server.close();
    await running;
    loop.close();
  });

  it('answers after an asynchronous gap (corked, with onAborted attached) and survives a client that left first', () => {
    let answered = 0;
    return withServer(
      {},
      async (request, response) => {
        const url = request.url;
        await new Promise((resolve) => setTimeout(resolve, url === '/gone' ? 100 : 10));
        answered++;
        expect(response.write('late ')).toBe(url !== '/gone');
        response.end(url);
      },
      async (server) => {
        const gone = exchange(server.address.port, 'GET /gone HTTP/1.1\r\nHost: t\r\n\r\n', 20);
        const result = await exchange(server.address.port, 'GET /async HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        // Streamed: chunked, the two writes as two chunks, then the last chunk.
        expect(result.text).toContain('Transfer-Encoding: chunked');
        expect(result.text.endsWith('5\r\nlate \r\n6\r\n/async\r\n0\r\n\r\n')).toBe(true);
        await gone;
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(answered).toBe(2);
      },
    );
  });

  it('streams a body with a declared content-length through tryEnd, with backpressure and drain', () => {
    const total = 16 * 1024 * 1024;
    let refusals = 0;
    let drains = 0;
    const overflow: string[] = [];
    return withServer(
      {},
      (_request, response) => {
        response.setHeader('content-length', total);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let left = total / chunk.length;
        const pump = (): void => {
          while (left > 0) {
            left--;
            if (!response.write(chunk)) {
              refusals++;
              return;
            }
          }
          try {
            response.write('one too many');
          } catch (error) {
            overflow.push((error as { code: string }).code);
          }
          response.end();
        };
        response.on({
          drain: () => {
            drains++;
            pump();
          },
        });
        pump();
      },
      async (server) => {
        const result = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 20_000);
        const head = result.text.slice(0, result.text.indexOf('\r\n\r\n'));
        expect(head).toContain(`Content-Length: ${total}`);
        expect(head).not.toContain('Transfer-Encoding');
        expect(result.text.length - head.length - 4).toBe(total);
        expect(refusals).toBeGreaterThan(0);
        expect(drains).toBe(refusals);
        expect(overflow).toEqual(['ERR_INVALID_ARG']);
      },
    );
  });

  it('keeps a fixed-length response ended with a backlog inside the handler alive until it is sent', () => {
    const total = 8 * 1024 * 1024;
    return withServer(
      {},
      (_request, response) => {
        response.setHeader('content-length', total);
        response.write(Buffer.alloc(total, 'y')); // more than the socket takes at once
        response.end();
      },
      async (server) => {
        const result = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 20_000);
        expect(result.text.length - result.text.indexOf('\r\n\r\n') - 4).toBe(total);
      },
    );
  });

  it('closes the connection when a response ends short of its declared content-length', () =>
    withServer(
      {},
      (_request, response) => {
        response.setHeader('content-length', 10);
        response.write('short');
        response.end();
      },
      async (server) => {
        const result = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        expect(result.closedByServer).toBe(true);
        expect(result.text.endsWith('\r\n\r\nshort')).toBe(true);
      },
    ));

  it('sends no body for HEAD, 204 and 304, keeping the connection framed', () =>
    withServer(
      {},
      (request, response) => {
        if (request.url === '/204') response.respond(204, {}, 'ignored');
        else if (request.url === '/304') response.status(304).end('ignored');
        else response.respond(200, { 'content-type': 'text/plain' }, 'twelve bytes');
      },
      async (server) => {
        const result = await exchange(
          server.address.port,
          'HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET /204 HTTP/1.1\r\nHost: t\r\n\r\nGET /304 HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
        );
        expect(statuses(result.text)).toEqual([200, 204, 304, 200]);
        expect(result.text.match(/Content-Length: 12/g)?.length).toBe(2);
        expect(result.text).not.toContain('ignored');
        expect(result.text.endsWith('twelve bytes')).toBe(true);
      },
    ));

  it('refuses header names and values that would split the response, with ERR_INVALID_ARG', () =>
    withServer(
      {},
      (_request, response) => {
        const codes: string[] = [];
        for (const attempt of [() => response.setHeader('x-a', 'v\r\nInjected: 1'), () => response.setHeader('bad name', 'v'), () => response.respond(200, { 'x-b': 'v\nx' })]) {
          try {
            attempt();
          } catch (error) {
            codes.push((error as { code: string }).code);
          }
        }
        response.respond(200, {}, codes.join(','));
      },
      async (server) => {
        const result = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect(result.text.endsWith('ERR_INVALID_ARG,ERR_INVALID_ARG,ERR_INVALID_ARG')).toBe(true);
        expect(result.text).not.toContain('Injected');
      },
    ));

  it('refuses a listen backlog uSockets cannot set, naming it', async () => {
    const loop = createLoop();
    await expect(loop.serveHttp({ port: 0, backlog: 16 }, (_request, response) => response.end())).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED',
      capability: 'listen.backlog',
    });
    loop.close();
  });
});
