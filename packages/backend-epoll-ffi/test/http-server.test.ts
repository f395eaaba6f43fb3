import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { openSocket, parseResponses, serve, within } from './http-helpers.js';

const plain = { 'content-type': 'text/plain' };

describe.each(['level', 'edge'] as const)('HTTP on raw sockets (%s-triggered)', (trigger) => {
  it('sees every line of a head with more than 32 headers (llhttp hands those over in two parts)', () => {
    let count = 0;
    let last: string | undefined;
    return serve(
      trigger,
      {},
      (request, response) => {
        request.forEachHeader(() => count++);
        last = request.header('x-h39');
        response.respond(204);
      },
      async ({ send }) => {
        const lines = Array.from({ length: 40 }, (_, i) => `X-H${i}: v${i}\r\n`).join('');
        const responses = await send(`GET / HTTP/1.1\r\nHost: t\r\n${lines}Connection: close\r\n\r\n`);
        expect(responses.map((r) => r.status)).toEqual([204]);
        expect([count, last]).toEqual([42, 'v39']);
      },
    );
  });

  it('parses a head that arrives in pieces across reads', () => {
    let seen = '';
    return serve(
      trigger,
      {},
      (request, response) => {
        seen = `${request.method} ${request.url} ${request.header('x-split')}`;
        response.respond(200, plain, 'ok');
      },
      async ({ send }) => {
        const responses = await send(['GET /sp', 'lit HTTP/1.1\r\nHo', 'st: t\r\nX-Split: ye', 's\r\nConnection: close\r\n', '\r\n'], 15);
        expect(responses.map((r) => r.body)).toEqual(['ok']);
        expect(seen).toBe('GET /split yes');
      },
    );
  });

  it('answers HEAD with the length of the body it would have sent, and no body', () =>
    serve(
      trigger,
      {},
      (_request, response) => response.respond(200, plain, 'twelve bytes'),
      async ({ raw }) => {
        const text = (await raw('HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')).toString('latin1');
        expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(text).toMatch(/\r\nContent-Length: 12\r\n/);
        expect(text.endsWith('\r\n\r\n')).toBe(true);
      },
    ));

  it('sends 204 and 304 without Content-Length or body, and a Date line formatted as RFC 9110 says', () =>
    serve(
      trigger,
      {},
      (request, response) => response.respond(request.url === '/304' ? 304 : 204),
      async ({ raw }) => {
        const text = (await raw('GET /204 HTTP/1.1\r\nHost: t\r\n\r\nGET /304 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')).toString('latin1');
        const heads = text.split('\r\n\r\n').filter((part) => part.length > 0);
        expect(heads.map((head) => head.split('\r\n')[0])).toEqual(['HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified']);
        expect(text).not.toMatch(/content-length/i);
        expect(text).toMatch(/\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n/);
      },
    ));

  it('streams with chunked encoding to HTTP/1.1, and without it (closing at the end) to HTTP/1.0', () =>
    serve(
      trigger,
      {},
      (_request, response) => {
        response.setHeader('content-type', 'text/plain');
        response.write('one,');
        response.write(Buffer.from('two,'));
        response.end('three');
      },
      async ({ raw }) => {
        const modern = (await raw('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')).toString('latin1');
        expect(modern).toMatch(/\r\nTransfer-Encoding: chunked\r\n/);
        expect(modern.slice(modern.indexOf('\r\n\r\n') + 4)).toBe('4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n');
        const old = (await raw('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')).toString('latin1');
        expect(old).not.toMatch(/Transfer-Encoding/i);
        expect(old).toMatch(/\r\nConnection: close\r\n/);
        expect(old.slice(old.indexOf('\r\n\r\n') + 4)).toBe('one,two,three');
      },
    ));

  it('answers Expect: 100-continue with an interim 100 before the final response', () =>
    serve(
      trigger,
      {},
      (request, response) => {
        let size = 0;
        request.on({ data: (chunk) => (size += chunk.length), end: () => response.respond(200, plain, `got ${size}`) });
      },
      async ({ raw }) => {
        const text = (await raw(['POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 'hello'], 20)).toString('latin1');
        expect(text.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n')).toBe(true);
        expect(parseResponses(Buffer.from(text, 'latin1')).map((r) => [r.status, r.body])).toEqual([
          [100, ''],
          [200, 'got 5'],
        ]);
      },
    ));

  it('holds body chunks while the request is paused and delivers them, then end, in order after resume()', () => {
    const order: string[] = [];
    return serve(
      trigger,
      {},
      (request, response) => {
        request.on({
          data: (chunk) => {
            order.push(`data ${Buffer.from(chunk).toString()}`);
            if (order.length === 1) {
              request.pause();
              setTimeout(() => {
                order.push('resume');
                request.resume();
              }, 30);
            }
          },
          end: () => {
            order.push('end');
            response.respond(200, plain, 'done');
          },
        });
      },
      async ({ send }) => {
        const head = 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
        const responses = await send(head + '1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n');
        expect(responses.map((r) => r.body)).toEqual(['done']);
        expect(order).toEqual(['data a', 'resume', 'data b', 'data c', 'end']);
      },
    );
  });

  it('keeps the bytes of two connections apart when one handler answers the other connection', () => {
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      {},
      (request, response) => {
        if (request.url === '/wait') {
          held = response;
          return;
        }
        // Inside this connection's parse (its output is corked), answer the other connection first.
        held?.respond(200, plain, 'for the waiting one');
        response.respond(200, plain, 'for the releasing one');
      },
      async ({ server }) => {
        const waiting = await openSocket(server.address.port);
        const got: Buffer[] = [];
        waiting.on('data', (chunk: Buffer) => got.push(chunk));
        waiting.write('GET /wait HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        for (let i = 0; i < 200 && held === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        const closed = new Promise((resolve) => waiting.on('close', resolve));
        const [released] = parseResponses(await (await import('./http-helpers.js')).rawExchange(server.address.port, 'GET /release HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'));
        await within(closed, 5_000, 'the waiting connection to close');
        expect(released?.body).toBe('for the releasing one');
        expect(parseResponses(Buffer.concat(got)).map((r) => r.body)).toEqual(['for the waiting one']);
      },
    );
  });

  it('sends bodies larger than its output buffer intact, from a string and from bytes', () => {
    const text = 'x'.repeat(300_000);
    const bytes = Buffer.alloc(200_000, 'y');
    return serve(
      trigger,
      {},
      (request, response) => response.respond(200, plain, request.url === '/text' ? text : bytes),
      async ({ send }) => {
        const responses = await send('GET /text HTTP/1.1\r\nHost: t\r\n\r\nGET /bytes HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect(responses.map((r) => r.body.length)).toEqual([300_000, 200_000]);
        expect(responses[0]?.body).toBe(text);
        expect(responses[1]?.body).toBe(bytes.toString('latin1'));
      },
    );
  });

  it('receives a body larger than its read buffer, declared and chunked', () => {
    const sizes: number[] = [];
    return serve(
      trigger,
      { maxBodySize: 4 * 1024 * 1024 },
      (request, response) => {
        let size = 0;
        request.on({
          data: (chunk) => (size += chunk.length),
          end: () => {
            sizes.push(size);
            response.respond(200, plain, String(size));
          },
        });
      },
      async ({ send }) => {
        const body = Buffer.alloc(1024 * 1024, 'z');
        const declared = Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
        const chunked = Buffer.concat([Buffer.from('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n100000\r\n'), body, Buffer.from('\r\n0\r\n\r\n')]);
        const responses = await send(Buffer.concat([declared, chunked]));
        expect(responses.map((r) => r.body)).toEqual(['1048576', '1048576']);
        expect(sizes).toEqual([1048576, 1048576]);
      },
    );
  });

  it('says how long it keeps a connection alive (Keep-Alive: timeout), from keepAliveTimeout', () =>
    serve(
      trigger,
      { keepAliveTimeout: 7_000 },
      (_request, response) => response.respond(200, plain, 'ok'),
      async ({ send }) => {
        const [response] = await send('GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect([response?.headers['connection'], response?.headers['keep-alive']]).toEqual(['keep-alive', 'timeout=7']);
      },
    ));

  it("answers the same with every request parsed by llhttp (parser: 'llhttp'), and refuses an unknown parser", () => {
    const seen: string[] = [];
    return serve(
      trigger,
      { parser: 'llhttp' },
      (request, response) => {
        seen.push(`${request.method} ${request.url} ${request.header('host')}`);
        response.respond(200, plain, 'ok');
      },
      async ({ loop, send }) => {
        const responses = await send('GET /a HTTP/1.1\r\nHost: t\r\n\r\nPOST /b HTTP/1.1\r\nHost: u\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi');
        expect(responses.map((r) => r.body)).toEqual(['ok', 'ok']);
        expect(seen).toEqual(['GET /a t', 'POST /b u']);
        expect(() => loop.serveHttp({ port: 0, parser: 'other' as 'llhttp' }, () => undefined, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
      },
    );
  });

  it('counts every accepted connection and every epoll batch in loop.stats', () =>
    serve(
      trigger,
      {},
      (_request, response) => response.respond(200, plain, 'ok'),
      async ({ loop, send }) => {
        await send('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await send('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect(loop.stats.accepted).toBe(2);
        expect(loop.stats.listenEvents).toBeGreaterThanOrEqual(1);
        expect(loop.stats.events).toBeGreaterThan(2);
        expect(loop.stats.wakeups).toBeGreaterThan(0);
      },
    ));
});
