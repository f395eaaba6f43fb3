import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpHandler, HttpResponse, HttpServer } from '@loop/core';
import { exchange, withServer, until, thrown } from './helpers.js';

// Response cases at the edges the other response tests leave: header names and values the
// backend reads itself (Content-Length, 14-character names), the state a response reports, what
// a closing server says on responses it is still answering, and a fixed-length body larger than
// the socket takes at once. Waits are for events, never for the machine being fast.

/** The header lines of the first response in `text`, names lower-cased. */
function headLines(text: string): string[] {
  return text
    .slice(0, text.indexOf('\r\n\r\n'))
    .split('\r\n')
    .slice(1)
    .map((line) => line.replace(/^[^:]+/, (name) => name.toLowerCase()));
}

function linesOf(text: string, name: string): string[] {
  return headLines(text).filter((line) => line.startsWith(`${name}: `));
}

function body(text: string): string {
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

async function get(port: number, method = 'GET', path = '/'): Promise<string> {
  return (await exchange(port, `${method} ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)).text;
}

/** A plain socket that collects what it receives. */
function rawClient(port: number): Promise<{ socket: Socket; text: () => string; bytes: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let size = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, text: () => Buffer.concat(chunks).toString('latin1'), bytes: () => size }));
    socket.once('error', reject);
  });
}

describe('headers the backend reads itself', () => {
  it('sends a 14-character header name that is not Content-Length, from setHeader() and from respond()', () =>
    withServer(
      {},
      (request, response) => {
        if (request.url === '/respond') response.respond(200, { 'X-Request-Tags': 'r' }, 'body');
        else response.setHeader('X-Request-Tags', 's').end('body');
      },
      async (server) => {
        const respond = await get(server.address.port, 'GET', '/respond');
        const end = await get(server.address.port, 'GET', '/end');
        expect([linesOf(respond, 'x-request-tags'), linesOf(end, 'x-request-tags')]).toEqual([['x-request-tags: r'], ['x-request-tags: s']]);
        expect([body(respond), body(end)]).toEqual(['body', 'body']);
      },
    ));

  it('takes only a Content-Length of digits as a declared length: a digit-valued other header or a malformed one lets the body stream', () => {
    const results: unknown[] = [];
    return withServer(
      {},
      (request, response) => {
        if (request.url === '/other') response.setHeader('X-Count', '5');
        if (request.url === '/suffix') response.setHeader('Content-Length', '5e0'); // Number() would read 5
        if (request.url === '/prefix') response.setHeader('Content-Length', '+5');
        results.push(thrown(() => response.write('more than five bytes')));
        response.end();
      },
      async (server) => {
        for (const path of ['/other', '/suffix', '/prefix']) {
          const text = await get(server.address.port, 'GET', path);
          expect([path, linesOf(text, 'transfer-encoding'), linesOf(text, 'content-length')]).toEqual([path, ['transfer-encoding: chunked'], []]);
          expect(body(text)).toContain('more than five bytes');
        }
        expect(results).toEqual(['no error', 'no error', 'no error']);
      },
    );
  });

  it('refuses any write once Content-Length: 0 is declared', () => {
    const results: unknown[] = [];
    return withServer(
      {},
      (_request, response) => {
        response.setHeader('Content-Length', '0');
        results.push(thrown(() => response.write('x')));
        response.end();
      },
      async (server) => {
        const text = await get(server.address.port);
        expect(linesOf(text, 'content-length')).toEqual(['content-length: 0']);
        expect(body(text)).toBe('');
        expect(results).toEqual([{ type: 'EventLoopError', code: 'ERR_INVALID_ARG', message: 'the body would exceed the declared content-length of 0 bytes' }]);
      },
    );
  });

  it('sends a declared Content-Length once on a written body, and the body’s own length when end() brings all of it first', () =>
    withServer(
      {},
      (request, response) => {
        response.setHeader('Content-Length', '5');
        if (request.url === '/write') {
          response.write('hello');
          response.end();
        } else {
          response.end('hello world');
        }
      },
      async (server) => {
        const written = await get(server.address.port, 'GET', '/write');
        expect([linesOf(written, 'content-length'), body(written)]).toEqual([['content-length: 5'], 'hello']);
        const ended = await get(server.address.port, 'GET', '/end');
        expect([linesOf(ended, 'content-length'), body(ended)]).toEqual([['content-length: 11'], 'hello world']);
      },
    ));

  it('gives HEAD its Content-Length beside other headers set, one only after a declared length and a write, none for a stream', () =>
    withServer(
      {},
      (request, response) => {
        response.setHeader('X-A', '1');
        if (request.url === '/declared') {
          response.setHeader('Content-Length', '5');
          response.write('hello');
          response.end();
        } else if (request.url === '/stream') {
          response.write('hello');
          response.end();
        } else {
          response.end('abc');
        }
      },
      async (server) => {
        const ended = await get(server.address.port, 'HEAD', '/end');
        expect([linesOf(ended, 'x-a'), linesOf(ended, 'content-length'), body(ended)]).toEqual([['x-a: 1'], ['content-length: 3'], '']);
        const client = await rawClient(server.address.port);
        client.socket.write('HEAD /declared HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => client.text().endsWith('\r\n\r\n'));
        expect(linesOf(client.text(), 'content-length')).toEqual(['content-length: 5']);
        // The same connection serves the next requests: a HEAD's declared length is not a body still owed.
        const before = client.text().length;
        client.socket.write('HEAD /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await new Promise((resolve) => client.socket.once('close', resolve));
        const streamed = client.text().slice(before);
        expect(streamed).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect([linesOf(streamed, 'content-length'), linesOf(streamed, 'x-a'), body(streamed)]).toEqual([[], ['x-a: 1'], '']);
      },
    ));

  it('sends an array value set first as its own lines and nothing else', () =>
    withServer(
      {},
      (_request, response) => response.setHeader('Set-Cookie', ['a=1', 'b=2']).end('x'),
      async (server) => {
        const text = await get(server.address.port);
        expect(headLines(text).filter((line) => !/^(date|uwebsockets|content-length|connection): /.test(line))).toEqual(['set-cookie: a=1', 'set-cookie: b=2']);
      },
    ));

  it('refuses a header name that is not a string, even one whose text would be a token', () => {
    const results: unknown[] = [];
    return withServer(
      {},
      (_request, response) => {
        results.push(thrown(() => response.setHeader(42 as unknown as string, 'x')));
        response.end('ok');
      },
      async (server) => {
        const text = await get(server.address.port);
        expect(body(text)).toBe('ok');
        expect(results).toEqual([{ type: 'EventLoopError', code: 'ERR_INVALID_ARG', message: 'invalid header name 42' }]);
      },
    );
  });
});

describe('what a response reports', () => {
  it('accepts status 100 at status(), the lower bound of the range', () => {
    const results: unknown[] = [];
    return withServer(
      {},
      (_request, response) => {
        results.push(thrown(() => response.status(100)));
        response.status(200).end('ok');
      },
      async (server) => {
        await get(server.address.port);
        expect(results).toEqual(['no error']);
      },
    );
  });

  it('says headersSent and finished after respond(), and after the 500 of a rejected async handler', () => {
    const states: unknown[] = [];
    let rejected: HttpResponse | undefined;
    return withServer(
      {},
      async (request, response) => {
        if (request.url === '/respond') {
          response.respond(200, {}, 'ok');
          states.push(response.headersSent, response.finished);
          response.respond(201, {}, 'again'); // a no-op after the end, not an ERR_HEADERS_SENT
          return;
        }
        rejected = response;
        await Promise.resolve();
        throw new Error('rejected');
      },
      async (server, _loop, errors) => {
        const ok = await get(server.address.port, 'GET', '/respond');
        expect(body(ok)).toBe('ok');
        const failed = await get(server.address.port, 'GET', '/reject');
        expect(failed).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
        states.push(rejected?.headersSent, rejected?.finished);
        expect(states).toEqual([true, true, true, true]);
        expect(errors.map((error) => (error as Error).message)).toEqual(['rejected']);
      },
    );
  });

  it('gives a 1xx status given to respond() neither a body nor a Content-Length', () =>
    withServer(
      {},
      (_request, response) => response.respond(199, {}, 'not sent'),
      async (server) => {
        const text = await get(server.address.port);
        expect(text).toMatch(/^HTTP\/1\.1 199 Unknown\r\n/);
        expect([linesOf(text, 'content-length'), body(text)]).toEqual([[], '']);
      },
    ));
});

describe('a response whose client left', () => {
  it('makes respond(), write() and end() no-ops once the client left (write() says false)', () => {
    const results: unknown[] = [];
    let arrived = false;
    return withServer(
      {},
      (request, response) => {
        arrived = true;
        request.on({
          aborted: () => {
            results.push(
              thrown(() => response.respond(200, {}, 'late')),
              response.write('late'),
              thrown(() => response.end('late')),
              response.headersSent,
              response.aborted,
            );
          },
        });
      },
      async (server) => {
        const client = await rawClient(server.address.port);
        client.socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => arrived);
        client.socket.destroy(); // leave without waiting for an answer
        await until(() => results.length === 5);
        expect(results).toEqual(['no error', false, 'no error', false, true]);
      },
    );
  });
});

describe('a response whose client left, with a throwing aborted callback', () => {
  it('reports an error thrown by the request’s aborted callback and still emits the response’s close', () => {
    const events: string[] = [];
    let arrived = false;
    return withServer(
      {},
      (request, response) => {
        arrived = true;
        request.on({
          aborted: () => {
            events.push('aborted');
            throw new Error('from aborted');
          },
        });
        response.on({ close: () => events.push('close') });
      },
      async (server, _loop, errors) => {
        const client = await rawClient(server.address.port);
        client.socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => arrived);
        client.socket.destroy();
        await until(() => events.length === 2);
        expect(events).toEqual(['aborted', 'close']);
        expect(errors.map((error) => (error as Error).message)).toEqual(['from aborted']);
      },
    );
  });
});

describe('a response reset after its head went out', () => {
  it('emits the response’s close once, says aborted, and lets the server close', () => {
    const events: unknown[] = [];
    return withServer(
      {},
      (request, response) => {
        response.write('started');
        response.on({ close: () => events.push('close', response.aborted) });
        request.on({
          end: () => {
            throw new Error('from end');
          },
        });
      },
      async (server, _loop, errors) => {
        const result = await exchange(server.address.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc');
        expect(result.closedByServer).toBe(true);
        await until(() => events.length === 2);
        expect(events).toEqual(['close', true]);
        expect(errors.map((error) => (error as Error).message)).toEqual(['from end']);
        // withServer's close() then has no exchange left to wait for.
      },
    );
  });
});

describe('responses answered while the server closes', () => {
  it('says Connection: close once on a streamed response, an ended one, and a 204 from respond() or end(), for clients that did not ask', () => {
    const held = new Map<string, HttpResponse>();
    let server: HttpServer | undefined;
    return withServer(
      {},
      (request, response) => {
        held.set(request.url, response);
      },
      async (started) => {
        server = started;
        const port = started.address.port;
        const answers = ['/stream', '/end', '/204', '/204-end'].map((path) => exchange(port, `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`));
        await until(() => held.size === 4);
        server.close();
        held.get('/stream')?.write('a');
        held.get('/stream')?.end('b');
        held.get('/end')?.end('ended');
        held.get('/204')?.respond(204);
        held.get('/204-end')?.status(204).end();
        const [stream, end, noContent, noContentEnded] = (await Promise.all(answers)).map((result) => result.text);
        for (const text of [stream, end, noContent, noContentEnded] as string[]) {
          expect(linesOf(text, 'connection')).toEqual(['connection: close']);
        }
        expect(linesOf(stream as string, 'transfer-encoding')).toEqual(['transfer-encoding: chunked']);
        expect(body(end as string)).toBe('ended');
      },
    );
  });
});

describe('a body larger than the socket takes at once', () => {
  it('keeps what the socket did not take of a fixed-length body, says false until drain, and sends every byte in order', () => {
    const size = 16 * 1024 * 1024;
    const results: unknown[] = [];
    let written = false;
    return withServer(
      {},
      (_request, response) => {
        response.setHeader('Content-Length', String(2 * size + 2));
        response.on({
          drain: () => {
            results.push('drain');
            response.end('!');
          },
        });
        results.push(response.write(''), response.write(Buffer.alloc(size, 'a')), response.write(''), response.write(Buffer.alloc(size, 'b')), response.write('c'));
        // The bytes kept back count against the declared length too.
        results.push(thrown(() => response.write('xx')));
        written = true;
      },
      async (server) => {
        const client = await rawClient(server.address.port);
        client.socket.pause();
        client.socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await until(() => written);
        client.socket.resume();
        await new Promise((resolve) => client.socket.once('close', resolve));
        const received = Buffer.from(client.text(), 'latin1');
        const start = received.indexOf('\r\n\r\n') + 4;
        const bodyBytes = received.subarray(start);
        expect(bodyBytes.length).toBe(2 * size + 2);
        expect([bodyBytes.indexOf('b'), bodyBytes.indexOf('c'), bodyBytes.indexOf('!')]).toEqual([size, 2 * size, 2 * size + 1]);
        expect(bodyBytes.subarray(0, size).every((byte) => byte === 0x61)).toBe(true);
        expect(results).toEqual([
          true,
          false,
          false,
          false,
          false,
          { type: 'EventLoopError', code: 'ERR_INVALID_ARG', message: `the body would exceed the declared content-length of ${2 * size + 2} bytes` },
          'drain',
        ]);
      },
    );
  });

  it('says false for a chunked write the socket did not take whole, then drain, and sends every byte', () => {
    const size = 16 * 1024 * 1024;
    const results: unknown[] = [];
    let written = false;
    return withServer(
      {},
      (_request, response) => {
        response.on({
          drain: () => {
            results.push('drain');
            response.end('!');
          },
        });
        results.push(response.write(Buffer.alloc(size, 'a')));
        written = true;
      },
      async (server) => {
        const client = await rawClient(server.address.port);
        client.socket.pause();
        client.socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await until(() => written);
        client.socket.resume();
        await new Promise((resolve) => client.socket.once('close', resolve));
        const text = client.text();
        expect(linesOf(text, 'transfer-encoding')).toEqual(['transfer-encoding: chunked']);
        expect(client.bytes()).toBeGreaterThan(size);
        expect(text.includes('!')).toBe(true);
        expect(results).toEqual([false, 'drain']);
      },
    );
  });
});
