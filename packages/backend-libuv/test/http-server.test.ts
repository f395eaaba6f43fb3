// The libuv backend's HTTP server beyond what the conformance suite pins down: the bodies of its
// refusals, respond()'s Content-Length rules, status and header checks, request pause and resume.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { EventLoop, HttpHandler, HttpServer, HttpServerOptions } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { createLoop } from '../src/index.js';

/** Send `parts` on one connection (10 ms apart) and return everything until the server closes it. */
function exchange(port: number, parts: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('connect', () => {
      let index = 0;
      const next = (): void => {
        const part = parts[index++];
        if (part === undefined) return;
        socket.write(part);
        setTimeout(next, 10);
      };
      next();
    });
  });
}

/** Serve `handler` while `fn` talks to the server; then close everything. */
async function serving(options: HttpServerOptions, handler: (loop: EventLoop) => HttpHandler, fn: (server: HttpServer, errors: unknown[]) => Promise<void>): Promise<void> {
  const errors: unknown[] = [];
  const loop = createLoop({ onError: (error) => errors.push(error) });
  const server = await loop.serveHttp({ port: 0, ...options }, handler(loop));
  const running = loop.run();
  try {
    await fn(server, errors);
  } finally {
    server.close();
    await running;
    loop.close();
  }
}

const close = 'Connection: close\r\n';
const get = (path: string, extra = close): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe('libuv backend: http refusals', () => {
  it('names the status in the body of each refusal, as plain text, and says the connection closes', () =>
    serving(
      { maxUrlLength: 16, maxHeaderCount: 2, maxBodySize: 4 },
      () => (request, response) => {
        if (request.url === '/boom') throw new Error('boom');
        request.on({ end: () => response.end('ok') });
      },
      async (server) => {
        const port = server.address.port;
        const refused = async (parts: string[]): Promise<string> => {
          const text = await exchange(port, parts);
          const [head = '', body] = text.split('\r\n\r\n');
          expect(head.toLowerCase()).toContain('content-type: text/plain');
          expect(head.toLowerCase()).toContain('connection: close');
          return `${head.split('\r\n')[0]} | ${body}`;
        };
        expect(await refused([get(`/${'u'.repeat(20)}`)])).toBe('HTTP/1.1 414 URI Too Long | URI Too Long\n');
        expect(await refused([get('/', 'A: 1\r\nB: 2\r\nC: 3\r\n')])).toBe('HTTP/1.1 431 Request Header Fields Too Large | Request Header Fields Too Large\n');
        expect(await refused([`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde`])).toBe('HTTP/1.1 413 Payload Too Large | Payload Too Large\n');
        expect(await refused([get('/boom')])).toBe('HTTP/1.1 500 Internal Server Error | Internal Server Error\n');
      },
    ));
});

describe('libuv backend: respond()', () => {
  it('adds Content-Length in bytes unless given, and none for 204, 304 and 1xx statuses', () =>
    serving(
      {},
      () => (request, response) => {
        switch (request.url) {
          case '/utf8':
            response.respond(200, { 'content-type': 'text/plain; charset=utf-8' }, 'héllo');
            break;
          case '/bytes':
            response.respond(200, undefined, new Uint8Array([1, 2, 3]));
            break;
          case '/given':
            response.respond(200, { 'Content-Length': '2' }, 'hi');
            break;
          case '/set-before':
            response.setHeader('content-length', '3');
            response.respond(200, {}, 'abc');
            break;
          case '/empty':
            response.respond(200);
            break;
          case '/no-content':
            response.respond(204);
            break;
          default:
            response.respond(304, { etag: '"x"' });
        }
      },
      async (server) => {
        const head = async (path: string): Promise<string[]> => {
          const text = await exchange(server.address.port, [get(path)]);
          return text
            .split('\r\n\r\n')[0]!
            .split('\r\n')
            .filter((line) => /^content-length:/i.test(line))
            .map((line) => line.toLowerCase());
        };
        expect(await head('/utf8')).toEqual(['content-length: 6']);
        expect(await head('/bytes')).toEqual(['content-length: 3']);
        expect(await head('/given')).toEqual(['content-length: 2']);
        expect(await head('/set-before')).toEqual(['content-length: 3']);
        expect(await head('/empty')).toEqual(['content-length: 0']);
        expect(await head('/no-content')).toEqual([]);
        expect(await head('/not-modified')).toEqual([]);
      },
    ));

  it('checks the status: an integer in [100, 999], and says what it got', () =>
    serving(
      {},
      () => (_request, response) => {
        const outcomes: string[] = [];
        for (const status of [99, 1000, 200.5, '200' as never]) {
          try {
            response.status(status);
            outcomes.push(`${String(status)} accepted`);
          } catch (error) {
            outcomes.push((error as Error).message);
          }
        }
        response.status(999).status(100).status(201);
        response.end(outcomes.join('\n'));
      },
      async (server) => {
        const text = await exchange(server.address.port, [get('/')]);
        expect(text.startsWith('HTTP/1.1 201')).toBe(true);
        expect(text).toContain(
          [
            'status must be an integer in [100, 999], got 99',
            'status must be an integer in [100, 999], got 1000',
            'status must be an integer in [100, 999], got 200.5',
            'status must be an integer in [100, 999], got 200',
          ].join('\n'),
        );
      },
    ));

  it('gives a header Node refuses the contract’s ERR_INVALID_ARG, with Node’s error as the cause', () =>
    serving(
      {},
      () => (_request, response) => {
        let failure: { code?: string; message?: string; cause?: unknown } = {};
        try {
          response.setHeader('x-bad', 'line\nbreak');
        } catch (error) {
          failure = error as typeof failure;
        }
        let respondFailure: { code?: string } = {};
        try {
          response.respond(200, { 'bad header name': 'x' });
        } catch (error) {
          respondFailure = error as typeof respondFailure;
        }
        response.end(`${failure.code} ${String(failure.message?.startsWith('invalid header: '))} ${String(failure.cause instanceof Error)} ${respondFailure.code}`);
      },
      async (server) => {
        const text = await exchange(server.address.port, [get('/')]);
        expect(text).toContain('ERR_INVALID_ARG true true ERR_INVALID_ARG');
      },
    ));
});

describe('libuv backend: request bodies', () => {
  it('holds body chunks and the end across pause() and resume(), delivering them in order', () =>
    serving(
      {},
      (loop) => (request, response) => {
        const order: string[] = [];
        request.on({
          data: (chunk) => {
            order.push(`data ${Buffer.from(chunk).toString()}`);
            if (order.length > 1) return;
            request.pause().pause();
            const later = loop.timer(() => {
              later.close();
              order.push('resume');
              request.resume().resume();
            });
            later.start(60);
          },
          end: () => response.end(order.concat('end').join(',')),
        });
      },
      async (server) => {
        // One write: Node parses the three chunks and the end at once, so they are queued before
        // the first data callback pauses, and must be held.
        const head = `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n${close}\r\n`;
        const text = await exchange(server.address.port, [head + '1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n']);
        expect(text.endsWith('data a,resume,data b,data c,end')).toBe(true);
      },
    ));

  it('reports the request line and the peer while the handler runs', () =>
    serving(
      {},
      () => (request, response) => {
        const snapshot = request.snapshot();
        response.end(JSON.stringify([request.httpVersion, request.remoteAddress?.family, snapshot.method, snapshot.url, snapshot.httpVersion, snapshot.remoteAddress?.address]));
      },
      async (server) => {
        const text = await exchange(server.address.port, [`PUT /where?x=1 HTTP/1.0\r\nHost: t\r\n\r\n`]);
        expect(text.split('\r\n\r\n')[1]).toBe(JSON.stringify(['1.0', 'IPv4', 'PUT', '/where?x=1', '1.0', '127.0.0.1']));
      },
    ));
});

describe('libuv backend: misuse messages and limits at their edges', () => {
  it('says which part of the head was read too late, and which call came after the headers', () =>
    serving(
      {},
      (loop) => (request, response) => {
        const late: string[] = [];
        response.write('started');
        for (const call of [() => response.status(201), () => response.setHeader('x-late', '1'), () => response.respond(200)]) {
          try {
            call();
          } catch (error) {
            late.push((error as Error).message);
          }
        }
        loop.callSoon(() => {
          const reads: [string, () => unknown][] = [
            ['method', () => request.method],
            ['url', () => request.url],
            ['httpVersion', () => request.httpVersion],
            ['remoteAddress', () => request.remoteAddress],
            ['header', () => request.header('host')],
            ['headerValues', () => request.headerValues('host')],
            ['forEachHeader', () => request.forEachHeader(() => undefined)],
            ['headers', () => request.headers()],
            ['snapshot', () => request.snapshot()],
            ['on', () => request.on({})],
          ];
          for (const [, read] of reads) {
            try {
              read();
            } catch (error) {
              late.push((error as Error).message.split(' after ')[0] as string);
            }
          }
          response.end(`\n${late.join('\n')}`);
        });
      },
      async (server) => {
        const text = await exchange(server.address.port, [get('/')]);
        for (const line of [
          "status() was called after the response headers were sent",
          "setHeader('x-late') was called after the response headers were sent",
          'respond() was called after the response headers were sent',
          'request.method was read',
          'request.url was read',
          'request.httpVersion was read',
          'request.remoteAddress was read',
          'request.header() was called',
          'request.headerValues() was called',
          'request.forEachHeader() was called',
          'request.headers() was called',
          'request.snapshot() was called',
          'request.on() was called',
        ]) {
          expect(text).toContain(line);
        }
      },
    ));

  it('refuses bad chunks and statuses in write(), end() and respond() with ERR_INVALID_ARG, saying what was wrong, before anything is sent', () =>
    serving(
      {},
      () => (_request, response) => {
        const codes: string[] = [];
        for (const call of [() => response.write(7 as never), () => response.end({} as never), () => response.respond(99), () => response.respond(200, {}, 5 as never)]) {
          try {
            call();
            codes.push('accepted');
          } catch (error) {
            codes.push(`${(error as { code: string }).code}: ${(error as Error).message}`);
          }
        }
        response.respond(200, {}, `\n${codes.join('\n')}`);
      },
      async (server) => {
        const text = await exchange(server.address.port, [get('/')]);
        expect(text.startsWith('HTTP/1.1 200')).toBe(true);
        expect(text.split('\r\n\r\n')[1]?.split('\n').slice(1)).toEqual([
          'ERR_INVALID_ARG: data must be a string or a Uint8Array, got number',
          'ERR_INVALID_ARG: data must be a string or a Uint8Array, got object',
          'ERR_INVALID_ARG: status must be an integer in [100, 999], got 99',
          'ERR_INVALID_ARG: data must be a string or a Uint8Array, got number',
        ]);
      },
    ));

  it('accepts exactly maxHeaderCount headers and refuses one more, Host included', () =>
    serving(
      { maxHeaderCount: 4 },
      () => (request, response) => response.end(`${request.headers()['x-3'] ?? 'none'}`),
      async (server) => {
        const headers = (count: number): string => Array.from({ length: count }, (_, i) => `X-${i + 1}: v${i + 1}\r\n`).join('');
        expect(await exchange(server.address.port, [get('/', `${headers(2)}${close}`)])).toMatch(/^HTTP\/1\.1 200[^]*none$/);
        expect(await exchange(server.address.port, [get('/', headers(4))])).toMatch(/^HTTP\/1\.1 431/);
      },
    ));

  it('refuses a head with many more headers than maxHeaderCount, which Node’s parser hands over in batches of 32', () =>
    serving(
      { maxHeaderCount: 32 },
      () => (request, response) => response.end(`${request.headers()['x-30'] ?? 'none'}`),
      async (server) => {
        // Node's parser keeps a further batch only while it holds fewer than server.maxHeadersCount
        // headers: set below maxHeaderCount, the second batch would be dropped and the head look fine.
        const headers = (count: number): string => Array.from({ length: count }, (_, i) => `X-${i + 1}: v${i + 1}\r\n`).join('');
        expect(await exchange(server.address.port, [get('/', `${headers(30)}${close}`)])).toMatch(/^HTTP\/1\.1 200[^]*v30$/);
        expect(await exchange(server.address.port, [get('/', headers(64))])).toMatch(/^HTTP\/1\.1 431/);
      },
    ));

  it('serves headers up to maxHeaderSize with the default URL limit: Node’s own limit sits above both', () =>
    serving(
      {},
      () => (request, response) => response.end(String(request.header('x-big')?.length)),
      async (server) => {
        const text = await exchange(server.address.port, [get('/', `X-Big: ${'b'.repeat(15 * 1024)}\r\n${close}`)]);
        expect(text).toMatch(/^HTTP\/1\.1 200[^]*15360$/);
      },
    ));

  it('ignores what a synchronous handler returns when it is not a promise', () =>
    serving(
      {},
      () =>
        ((_request: unknown, response: { end(body: string): void }) => {
          response.end('fine');
          return { then: 'not a function' };
        }) as unknown as HttpHandler,
      async (server, errors) => {
        expect(await exchange(server.address.port, [get('/')])).toMatch(/^HTTP\/1\.1 200[^]*fine$/);
        expect(errors).toEqual([]);
      },
    ));
});

/** A kept-alive raw connection: what it received so far, and when it closed. */
interface OpenConnection {
  text(): string;
  closed: Promise<void>;
  isClosed(): boolean;
  write(data: string): void;
  destroy(): void;
}

function openConnection(port: number): Promise<OpenConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let isClosed = false;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) =>
      socket.on('close', () => {
        isClosed = true;
        done();
      }),
    );
    socket.once('connect', () =>
      resolve({
        text: () => Buffer.concat(chunks).toString('latin1'),
        closed,
        isClosed: () => isClosed,
        write: (data) => socket.write(data),
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/** Poll `condition` every 5 ms, for 5 s at most. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${what}: not within 5 s`);
}

/** Resolve `promise` or fail after 5 s. */
function soon<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within 5 s`)), 5_000)))]).finally(() => clearTimeout(timer));
}

// Idle keep-alive connections would close by themselves after 5 s: only the server may close them here.
const patient: HttpServerOptions = { keepAliveTimeout: 60_000 };

describe('libuv backend: streamed responses and server.close()', () => {
  it('closes the connection of a response that was streaming when server.close() was called, once it ends', () => {
    let finish: (() => void) | undefined;
    return serving(
      patient,
      () => (_request, response) => {
        response.write('part,');
        finish = () => response.end('rest');
      },
      async (server) => {
        const connection = await openConnection(server.address.port);
        connection.write(get('/stream', ''));
        await until(() => connection.text().includes('part,'), 'the first chunk');
        expect(connection.text()).toMatch(/connection: keep-alive/i);
        server.close();
        expect(connection.isClosed()).toBe(false);
        finish?.();
        await soon(connection.closed, 'the connection to close after the response');
        expect(connection.text()).toMatch(/part,[^]*rest/);
      },
    );
  });

  it('streams a response started after server.close() with Connection: close, and closes its connection after it', () => {
    let answer: (() => void) | undefined;
    return serving(
      patient,
      () => (_request, response) => {
        answer = () => {
          response.status(202).write('streamed ');
          response.end('late');
        };
      },
      async (server) => {
        const connection = await openConnection(server.address.port);
        connection.write(get('/hold', ''));
        await until(() => answer !== undefined, 'the request');
        server.close();
        answer?.();
        await soon(connection.closed, 'the connection to close after the response');
        const [head = '', body = ''] = connection.text().split('\r\n\r\n');
        expect(head.split('\r\n')[0]).toBe('HTTP/1.1 202 Accepted');
        expect(head.toLowerCase()).toContain('connection: close');
        expect(body).toMatch(/streamed [^]*late/);
      },
    );
  });

  it('lets a connection whose streamed response had ended finish the response it is busy with when server.close() comes', () => {
    let answer: (() => void) | undefined;
    return serving(
      patient,
      () => (request, response) => {
        if (request.url === '/stream') {
          response.write('one ');
          response.end('two');
        } else {
          answer = () => response.respond(200, {}, 'held');
        }
      },
      async (server) => {
        const connection = await openConnection(server.address.port);
        connection.write(get('/stream', ''));
        await until(() => /two\r\n0\r\n\r\n$/.test(connection.text()), 'the streamed response');
        connection.write(get('/hold', ''));
        await until(() => answer !== undefined, 'the second request');
        server.close();
        answer?.();
        await soon(connection.closed, 'the connection to close after the second response');
        const second = connection.text().split('0\r\n\r\n')[1] ?? '';
        expect(second.toLowerCase()).toContain('connection: close');
        expect(second.endsWith('held')).toBe(true);
      },
    );
  });

  it('ends a response answered with end() after server.close() with Connection: close, and closes its connection', () => {
    let answer: (() => void) | undefined;
    return serving(
      patient,
      () => (_request, response) => {
        answer = () => response.end('late');
      },
      async (server) => {
        const connection = await openConnection(server.address.port);
        connection.write(get('/hold', ''));
        await until(() => answer !== undefined, 'the request');
        server.close();
        answer?.();
        await soon(connection.closed, 'the connection to close after the response');
        const [head = '', body = ''] = connection.text().split('\r\n\r\n');
        expect(head.toLowerCase()).toContain('connection: close');
        expect(body).toBe('late');
      },
    );
  });

  it('keeps the connection of a streamed response alive while the server is open, with the status set before the first write', () =>
    serving(
      patient,
      () => (request, response) => {
        if (request.url === '/stream') {
          response.status(201);
          response.write('one ');
          response.end('two');
        } else {
          response.end('next');
        }
      },
      async (server) => {
        const connection = await openConnection(server.address.port);
        connection.write(get('/stream', ''));
        await until(() => /two\r\n0\r\n\r\n$/.test(connection.text()), 'the streamed response');
        connection.write(get('/next'));
        await soon(connection.closed, 'the second response');
        const text = connection.text();
        expect(text.startsWith('HTTP/1.1 201 Created')).toBe(true);
        expect(text.toLowerCase()).toContain('connection: keep-alive');
        expect(text.endsWith('next')).toBe(true);
      },
    ));
});

describe('libuv backend: response and request callbacks', () => {
  it('runs the response close callback once when the response was sent, and aborted never, even when the client leaves afterwards', () => {
    const order: string[] = [];
    return serving(
      patient,
      (loop) => (request, response) => {
        request.on({ aborted: () => order.push('aborted') });
        response.on({ close: () => order.push(`close (aborted: ${String(response.aborted)})`) });
        response.on({ close: () => order.push(`close again (aborted: ${String(response.aborted)})`) });
        response.write('a');
        loop.callSoon(() => response.end('b'));
      },
      async (server) => {
        const connection = await openConnection(server.address.port);
        connection.write(get('/', ''));
        await until(() => order.length > 0, 'the close callback');
        connection.destroy();
        await soon(connection.closed, 'the client to leave');
        // Give a wrong aborted callback, or a second close, the time to come.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(order).toEqual(['close again (aborted: false)']);
      },
    );
  });

  it('runs the close callback of a response answered at once with respond(), once it was sent', () => {
    const order: string[] = [];
    return serving(
      {},
      () => (_request, response) => {
        response.on({ close: () => order.push(`close (finished: ${String(response.finished)})`) });
        response.respond(200, {}, 'done');
      },
      async (server) => {
        expect(await exchange(server.address.port, [get('/')])).toMatch(/done$/);
        await until(() => order.length > 0, 'the close callback');
        expect(order).toEqual(['close (finished: true)']);
      },
    );
  });

  it('runs the response close callback when the client leaves first, after the request’s aborted callback', () => {
    const order: string[] = [];
    return serving(
      patient,
      () => (request, response) => {
        request.on({ aborted: () => order.push(`aborted (aborted: ${String(response.aborted)})`) });
        response.on({ close: () => order.push('close') });
        response.write('started');
      },
      async (server) => {
        const connection = await openConnection(server.address.port);
        connection.write(get('/', ''));
        await until(() => connection.text().includes('started'), 'the first chunk');
        connection.destroy();
        await until(() => order.length === 2, 'the callbacks');
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(order).toEqual(['aborted (aborted: true)', 'close']);
      },
    );
  });

  it('runs a drain callback set twice once per drain: the second replaces the first', () => {
    const order: string[] = [];
    let blocked = false;
    return serving(
      {},
      () => (_request, response) => {
        const chunk = Buffer.alloc(64 * 1024, 'd');
        for (let i = 0; i < 1024 && !blocked; i++) blocked = !response.write(chunk);
        response.on({ drain: () => order.push('first drain callback') });
        response.on({ drain: () => order.push('drain') });
        response.on({
          close: () => order.push('close'),
        });
        const finish = (): void => {
          if (order.includes('drain')) response.end();
          else setTimeout(finish, 5);
        };
        finish();
      },
      async (server) => {
        await exchange(server.address.port, [get('/big')]);
        expect(blocked).toBe(true);
        expect(order).toEqual(['drain', 'close']);
      },
    );
  });

  it('expires the request of a handler that threw: reading its head later throws ERR_REQUEST_EXPIRED', () => {
    let late = '';
    return serving(
      {},
      (loop) => (request) => {
        loop.callSoon(() => {
          try {
            late = request.url;
          } catch (error) {
            late = (error as { code: string }).code;
          }
        });
        throw new Error('handler failed');
      },
      async (server, errors) => {
        expect(await exchange(server.address.port, [get('/')])).toMatch(/^HTTP\/1\.1 500/);
        await until(() => late !== '', 'the late read');
        expect(late).toBe('ERR_REQUEST_EXPIRED');
        expect(errors.map((error) => (error as Error).message)).toEqual(['handler failed']);
      },
    );
  });
});

describe('libuv backend: request bodies at the limit and across a pause', () => {
  it('runs no data or end callback after a chunked body went over maxBodySize', () => {
    const order: string[] = [];
    return serving(
      { maxBodySize: 4 },
      () => (request, response) => {
        request.on({
          data: (chunk) => order.push(`data ${Buffer.from(chunk).toString()}`),
          end: () => {
            order.push('end');
            response.end('ok');
          },
        });
      },
      async (server) => {
        // One write: the parser emits every chunk and the end before any callback runs.
        const head = `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n`;
        const text = await exchange(server.address.port, [`${head}3\r\nabc\r\n3\r\ndef\r\n3\r\nghi\r\n0\r\n\r\n`]);
        expect(text).toMatch(/^HTTP\/1\.1 413/);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(order).toEqual(['data abc']);
      },
    );
  });

  it('delivers the chunks held by a pause at resume() even while the rest of the body is still on its way', () =>
    serving(
      {},
      (loop) => (request, response) => {
        const order: string[] = [];
        request.on({
          data: (chunk) => {
            order.push(`data ${Buffer.from(chunk).toString()}`);
            if (order.length > 1) return;
            request.pause();
            const later = loop.timer(() => {
              later.close();
              order.push('resume');
              request.resume();
            });
            later.start(20);
          },
          end: () => response.end(order.concat('end').join(',')),
        });
      },
      async (server) => {
        // Two chunks in one write (both queued before the first callback pauses), the last chunk
        // and the end 150 ms after the resume.
        const head = `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n${close}\r\n`;
        const text = await soon(exchange(server.address.port, [`${head}1\r\na\r\n1\r\nb\r\n`, '', '', '', '', '', '', '', '', '', '', '', '', '', '', '1\r\nc\r\n0\r\n\r\n']), 'the response');
        expect(text.endsWith('data a,resume,data b,data c,end')).toBe(true);
      },
    ));
});

describe('libuv backend: listening and timeouts', () => {
  it('rejects serveHttp() on a bound port with ERR_SOCKET naming the endpoint, and leaves nothing open', async () => {
    const loop = createLoop();
    const taken = await loop.serveHttp({ port: 0 }, (_request, response) => response.end());
    const port = taken.address.port;
    await expect(loop.serveHttp({ port }, (_request, response) => response.end())).rejects.toMatchObject({
      code: 'ERR_SOCKET',
      errno: 'EADDRINUSE',
      message: expect.stringContaining(`listen on 127.0.0.1:${port} failed`),
    });
    taken.close();
    await loop.run();
    loop.close(); // throws if the failed server had been counted as a live handle
  });

  it('answers 408 soon after headersTimeout, not at Node’s own check interval', () =>
    serving(
      { headersTimeout: 200 },
      () => (_request, response) => response.end(),
      async (server) => {
        const started = performance.now();
        const text = await exchange(server.address.port, ['GET / HTTP/1.1\r\nHost: t\r\n']);
        const elapsed = performance.now() - started;
        expect(text).toMatch(/^HTTP\/1\.1 408/);
        // Node looks for late heads every max(10, min(1000, headersTimeout / 4)) ms; at its
        // default interval (30 s), or at 4 × headersTimeout, the answer would come far later.
        expect(elapsed).toBeGreaterThanOrEqual(190);
        expect(elapsed).toBeLessThan(600);
      },
    ));
});

describe('libuv backend: request bodies that arrive while the loop is stopped', () => {
  it('holds the chunks and the end queued while the loop was stopped behind a pause() in the first data callback, until resume()', async () => {
    const loop = createLoop();
    const order: string[] = [];
    const server = await loop.serveHttp({ port: 0 }, (request, response) => {
      request.on({
        data: (chunk) => {
          order.push(`data ${Buffer.from(chunk).toString()}`);
          if (order.length > 1) return;
          request.pause();
          const later = loop.timer(() => {
            later.close();
            order.push('resume');
            request.resume();
          });
          later.start(20);
        },
        end: () => {
          order.push('end');
          response.end('ok');
          server.close();
        },
      });
      loop.stop(); // the body comes while the loop is not running: its events queue up
    });
    const head = `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n${close}\r\n`;
    const answer = exchange(server.address.port, [head, '1\r\na\r\n', '1\r\nb\r\n', '1\r\nc\r\n0\r\n\r\n']);
    await loop.run(); // until the handler ran
    await new Promise((resolve) => setTimeout(resolve, 80)); // the three parts and the end arrive, one by one
    await loop.run();
    expect(await answer).toMatch(/ok$/);
    expect(order).toEqual(['data a', 'resume', 'data b', 'data c', 'end']);
    loop.close();
  });

  it('runs the end after the body when the handler pauses and resumes before any of it came', () =>
    serving(
      {},
      (loop) => (request, response) => {
        const order: string[] = [];
        request.on({
          data: (chunk) => order.push(`data ${Buffer.from(chunk).toString()}`),
          end: () => response.end(order.concat('end').join(',')),
        });
        request.pause();
        const later = loop.timer(() => {
          later.close();
          request.resume();
        });
        later.start(5);
      },
      async (server) => {
        const head = `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n${close}\r\n`;
        const text = await exchange(server.address.port, [head, '', '', '', 'body']);
        expect(text.endsWith('data body,end')).toBe(true);
      },
    ));
});

describe('libuv backend: request body flow control', () => {
  it('stops reading a paused request body: the client is held back by TCP flow control until resume()', () => {
    const total = 64 * 1024 * 1024; // far more than the kernel buffers on the way hold
    let received = 0;
    let receivedWhilePaused = 0;
    let paused = false;
    let resume: (() => void) | undefined;
    return serving(
      { maxBodySize: total },
      (loop) => (request, response) => {
        request.on({
          data: (chunk) => {
            if (paused) receivedWhilePaused += chunk.length;
            received += chunk.length;
            if (resume !== undefined) return;
            paused = true;
            request.pause();
            resume = () =>
              loop.callSoon(() => {
                paused = false;
                request.resume();
              });
          },
          end: () => response.end(`got ${received}`),
        });
      },
      async (server) => {
        const socket = connect({ host: '127.0.0.1', port: server.address.port });
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', () => undefined);
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
        socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\n${close}\r\n`);
        const chunk = Buffer.alloc(64 * 1024, 'p');
        for (let sent = 0; sent < total; sent += chunk.length) socket.write(chunk);
        await until(() => resume !== undefined, 'the first chunk');
        // Wait until the client has stopped sending: its queue unchanged for 250 ms.
        let last = -1;
        for (let steady = 0, i = 0; steady < 5 && i < 200; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          steady = socket.writableLength === last ? steady + 1 : 0;
          last = socket.writableLength;
        }
        expect(socket.writableLength).toBeGreaterThan(total / 2);
        expect(receivedWhilePaused).toBe(0);
        resume?.();
        await closed;
        expect(Buffer.concat(chunks).toString('latin1').endsWith(`got ${total}`)).toBe(true);
      },
    );
  });
});
