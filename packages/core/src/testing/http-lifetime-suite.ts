import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { EventLoopError, UnsupportedError } from '../errors.js';
import type { HttpLimits, HttpRequest, HttpRequestSnapshot, HttpResponse } from '../http.js';
import type { ErrorHandler, Phase } from '../loop.js';
import { get, openFdCount, parseResponses, within, type LoopFactory } from './helpers.js';
import { withHttp } from './http-fixture.js';

/** The stable code of what `fn` throws, or `'no throw'`. */
function codeThrownBy(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof EventLoopError ? error.code : `not an EventLoopError: ${String(error)}`;
  }
  return 'no throw';
}

/** A plain Node client connection that records what it receives and when it closes. */
interface RawClient {
  socket: Socket;
  received(): Buffer;
  /** Resolves once `count` complete responses have arrived. */
  responses(count: number): Promise<ReturnType<typeof parseResponses>>;
  closed: Promise<void>;
}

function openClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const waiters: (() => void)[] = [];
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      for (const wake of waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closedResolve();
      for (const wake of waiters.splice(0)) wake();
    });
    socket.once('connect', () => {
      const received = (): Buffer => Buffer.concat(chunks);
      const responses = async (count: number): Promise<ReturnType<typeof parseResponses>> => {
        for (;;) {
          try {
            const parsed = parseResponses(received());
            if (parsed.length >= count) return parsed;
          } catch {
            /* an incomplete response: wait for more */
          }
          if (socket.destroyed) throw new Error(`connection closed after ${JSON.stringify(received().toString('latin1'))}`);
          await new Promise<void>((wake) => waiters.push(wake));
        }
      };
      resolve({ socket, received, responses, closed });
    });
    socket.once('error', reject);
  });
}

const plain = { 'content-type': 'text/plain' };

/**
 * Who owns what and until when (uWebSockets.js's rules, made the contract's on every backend):
 * the request head lives during the handler's synchronous call, body callbacks are set then or
 * never, a response can be written late but never crashes after its end, `respond()` is the fast
 * path, `server.close()` finishes busy exchanges with `Connection: close`, and failures are
 * reported in a loop phase.
 */
export function defineHttpLifetimeSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  if (!capabilities.http) return; // the http suite asserts UnsupportedError for serveHttp
  describe('http lifetimes and ownership', () => {
    it('throws ERR_REQUEST_EXPIRED for every part of the request head read after the handler returned', () => {
      const codes: Record<string, string> = {};
      return withHttp(
        createLoop,
        {},
        (loop) => (request, response) => {
          const timer = loop.timer(() => {
            timer.close();
            codes['method'] = codeThrownBy(() => request.method);
            codes['url'] = codeThrownBy(() => request.url);
            codes['httpVersion'] = codeThrownBy(() => request.httpVersion);
            codes['remoteAddress'] = codeThrownBy(() => request.remoteAddress);
            codes['header'] = codeThrownBy(() => request.header('host'));
            codes['headerValues'] = codeThrownBy(() => request.headerValues('host'));
            codes['forEachHeader'] = codeThrownBy(() => request.forEachHeader(() => undefined));
            codes['headers'] = codeThrownBy(() => request.headers());
            codes['snapshot'] = codeThrownBy(() => request.snapshot());
            response.respond(200, plain, 'late');
          });
          timer.start(0);
        },
        async ({ send }) => {
          const [response] = await send(get('/', 'Connection: close\r\n'));
          expect(response?.body).toBe('late');
          const fields = ['method', 'url', 'httpVersion', 'remoteAddress', 'header', 'headerValues', 'forEachHeader', 'headers', 'snapshot'];
          expect(codes).toEqual(Object.fromEntries(fields.map((field) => [field, 'ERR_REQUEST_EXPIRED'])));
        },
      );
    });

    it('makes an async handler that reads the head after an await fail with ERR_REQUEST_EXPIRED and a 500', () =>
      withHttp(
        createLoop,
        {},
        () => async (request, response) => {
          await Promise.resolve();
          response.end(request.url);
        },
        async ({ send, errors }) => {
          const responses = await send(get('/'));
          expect(responses.map((r) => r.status)).toEqual([500]);
          expect(errors.map((e) => [(e.error as EventLoopError).code, e.phase])).toEqual([['ERR_REQUEST_EXPIRED', 'poll']]);
        },
      ));

    it('keeps the head with snapshot(): plain data, valid after the handler returned', () => {
      let snapshot: HttpRequestSnapshot | undefined;
      return withHttp(
        createLoop,
        {},
        (loop) => (request, response) => {
          snapshot = request.snapshot();
          const timer = loop.timer(() => {
            timer.close();
            response.respond(200, plain, `${snapshot?.method} ${snapshot?.url}`);
          });
          timer.start(0);
        },
        async ({ send }) => {
          const [response] = await send('GET /kept?q=1 HTTP/1.1\r\nHost: test\r\nX-Tag: t1\r\nConnection: close\r\n\r\n');
          expect(response?.body).toBe('GET /kept?q=1');
          expect(snapshot).toMatchObject({ method: 'GET', url: '/kept?q=1', httpVersion: '1.1' });
          expect(snapshot?.headers).toMatchObject({ host: 'test', 'x-tag': 't1', connection: 'close' });
          expect(snapshot?.remoteAddress?.address).toBe('127.0.0.1');
          // A backend that cannot know the client's port says so with undefined, never a made-up one.
          const port = snapshot?.remoteAddress?.port;
          expect(port === undefined || (Number.isInteger(port) && port > 0 && port < 65536)).toBe(true);
        },
      );
    });

    it('looks headers up in any case, joins repeated lines with ", " and cookie lines with "; ", and keeps set-cookie lines apart', () => {
      let seen: Record<string, unknown> = {};
      const handler = (request: HttpRequest, response: HttpResponse): void => {
        const lines: string[] = [];
        request.forEachHeader((name, value) => lines.push(`${name}=${value}`));
        seen = {
          multi: request.header('X-MULTI'),
          cookie: request.header('cookie'),
          setCookie: request.header('Set-Cookie'),
          setCookies: request.headerValues('set-cookie'),
          single: request.header('x-single'),
          absent: request.header('x-absent'),
          absentValues: request.headerValues('x-absent'),
          object: { ...request.headers() },
          lines,
        };
        response.respond(204);
      };
      return withHttp(
        createLoop,
        {},
        () => handler,
        async ({ send }) => {
          const head = [
            'GET / HTTP/1.1',
            'Host: test',
            'X-Multi: a',
            'x-multi: b',
            'Cookie: a=1',
            'Cookie: b=2',
            'Set-Cookie: s=1',
            'Set-Cookie: s=2',
            'X-Single: only',
            'Connection: close',
          ];
          const responses = await send(`${head.join('\r\n')}\r\n\r\n`);
          expect(responses.map((r) => r.status)).toEqual([204]);
          expect(seen).toEqual({
            multi: 'a, b',
            cookie: 'a=1; b=2',
            setCookie: 's=1',
            setCookies: ['s=1', 's=2'],
            single: 'only',
            absent: undefined,
            absentValues: [],
            object: { host: 'test', 'x-multi': 'a, b', cookie: 'a=1; b=2', 'set-cookie': 's=1', 'x-single': 'only', connection: 'close' },
            lines: ['host=test', 'x-multi=a', 'x-multi=b', 'cookie=a=1', 'cookie=b=2', 'set-cookie=s=1', 'set-cookie=s=2', 'x-single=only', 'connection=close'],
          });
        },
      );
    });

    it('refuses body callbacks set after the handler returned with ERR_REQUEST_EXPIRED', () => {
      let code = '';
      return withHttp(
        createLoop,
        {},
        (loop) => (request, response) => {
          const timer = loop.timer(() => {
            timer.close();
            code = codeThrownBy(() => request.on({ data: () => undefined }));
            response.respond(200, plain, 'done');
          });
          timer.start(0);
        },
        async ({ send }) => {
          const responses = await send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody');
          expect(responses.map((r) => r.body)).toEqual(['done']);
          expect(code).toBe('ERR_REQUEST_EXPIRED');
        },
      );
    });

    it('reads and discards a body nobody asked for, and serves the next request on the same connection', () =>
      withHttp(
        createLoop,
        {},
        () => (request, response) => {
          response.respond(200, plain, `${request.method} ${request.url}`);
        },
        async ({ send }) => {
          const responses = await send([
            `POST /unread HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789`,
            `POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
            get('/next', 'Connection: close\r\n'),
          ], 10);
          expect(responses.map((r) => r.body)).toEqual(['POST /unread', 'POST /chunked', 'GET /next']);
        },
      ));

    if (capabilities.httpLimits.maxBodySize) {
      it('counts a body nobody reads against maxBodySize: 413 and the connection closes', () =>
        withHttp(
          createLoop,
          { maxBodySize: 100 },
          (loop) => (_request, response) => {
            const timer = loop.timer(() => {
              timer.close();
              response.respond(200, plain, 'too late');
            });
            timer.start(100);
          },
          async ({ send }) => {
            const responses = await send(
              ['POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n', `64\r\n${'x'.repeat(100)}\r\n`, `10\r\n${'y'.repeat(16)}\r\n`, '0\r\n\r\n'],
              10,
            );
            expect(responses.map((r) => r.status)).toEqual([413]);
          },
        ));
    }

    it('lets write() and end() after end() do nothing: write returns false, nothing throws, nothing is reported', () => {
      const outcomes: unknown[] = [];
      return withHttp(
        createLoop,
        {},
        () => (_request, response) => {
          response.end('once');
          outcomes.push(response.finished, response.write('twice'), codeThrownBy(() => response.end('thrice')), codeThrownBy(() => response.respond(200)));
        },
        async ({ send, errors }) => {
          const responses = await send(get('/', 'Connection: close\r\n'));
          expect(responses.map((r) => r.body)).toEqual(['once']);
          // A process-killing 'error' event would come on a later tick: give it one.
          await new Promise((resolve) => setTimeout(resolve, 20));
          expect(outcomes).toEqual([true, false, 'no throw', 'no throw']);
          expect(errors).toEqual([]);
        },
      );
    });

    it('lets a response written after the client left return false, set aborted, and throw nothing', () => {
      const outcomes: unknown[] = [];
      let requestSeen!: () => void;
      const seen = new Promise<void>((resolve) => (requestSeen = resolve));
      let writesDone!: () => void;
      const done = new Promise<void>((resolve) => (writesDone = resolve));
      return withHttp(
        createLoop,
        {},
        () => (request, response) => {
          request.on({
            aborted: () => {
              outcomes.push(response.aborted, response.write('to nobody'), codeThrownBy(() => response.end('bye')));
              writesDone();
            },
          });
          requestSeen();
        },
        async ({ server, errors }) => {
          const client = await openClient(server.address.port);
          client.socket.write(get('/hang'));
          await within(seen, 5_000, 'request to arrive');
          client.socket.destroy();
          await within(done, 5_000, 'the aborted callback');
          await new Promise((resolve) => setTimeout(resolve, 20));
          expect(outcomes).toEqual([true, false, 'no throw']);
          expect(errors).toEqual([]);
        },
      );
    });

    it('throws ERR_HEADERS_SENT for status() and setHeader() once headers were sent, and ERR_INVALID_ARG for bad ones', () => {
      const codes: string[] = [];
      return withHttp(
        createLoop,
        {},
        () => (_request, response) => {
          codes.push(codeThrownBy(() => response.setHeader('x-bad', 'a\r\nx-injected: 1')));
          codes.push(codeThrownBy(() => response.status(42)));
          response.setHeader('content-type', 'text/plain');
          response.write('part');
          codes.push(codeThrownBy(() => response.setHeader('x-late', '1')));
          codes.push(codeThrownBy(() => response.status(404)));
          codes.push(codeThrownBy(() => response.respond(200)));
          response.end();
        },
        async ({ send }) => {
          const [response] = await send(get('/', 'Connection: close\r\n'));
          expect(response?.status).toBe(200);
          expect(response?.headers['x-injected']).toBeUndefined();
          expect(codes).toEqual(['ERR_INVALID_ARG', 'ERR_INVALID_ARG', 'ERR_HEADERS_SENT', 'ERR_HEADERS_SENT', 'ERR_HEADERS_SENT']);
        },
      );
    });

    it('sends status, headers and the whole body with respond(), headers set before included and overridden', () =>
      withHttp(
        createLoop,
        {},
        () => (_request, response) => {
          response.setHeader('x-before', 'kept').setHeader('x-both', 'from setHeader');
          response.respond(201, { 'content-type': 'text/plain', 'x-both': 'from respond', 'x-list': ['a', 'b'] }, Buffer.from('made'));
        },
        async ({ send }) => {
          const [response] = await send(get('/', 'Connection: close\r\n'));
          expect(response?.status).toBe(201);
          expect(response?.body).toBe('made');
          expect(response?.headers).toMatchObject({ 'x-before': 'kept', 'x-both': 'from respond', 'content-length': '4' });
        },
      ));

    it('reports a rejected handler promise in the poll phase while the loop runs, even when it rejects late', async () => {
      const fdsBefore = openFdCount();
      const reports: { code: string; phase: Phase; running: boolean }[] = [];
      const holder: { loop?: ReturnType<LoopFactory> } = {};
      const onError: ErrorHandler = (error, phase) =>
        reports.push({ code: (error as EventLoopError).code ?? String(error), phase, running: holder.loop?.isRunning() ?? false });
      const loop = createLoop({ onError });
      holder.loop = loop;
      const server = await loop.serveHttp({ port: 0 }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 30)); // a Node timer, outside the loop
        throw new EventLoopError('ERR_INVALID_ARG', 'late rejection');
      });
      const running = loop.run();
      const client = await openClient(server.address.port);
      client.socket.write(get('/'));
      const [response] = await within(client.responses(1), 5_000, 'the 500');
      expect(response?.status).toBe(500);
      await client.closed;
      server.close();
      await within(running, 5_000, 'the loop to finish');
      loop.close();
      expect(reports).toEqual([{ code: 'ERR_INVALID_ARG', phase: 'poll', running: true }]);
      expect(openFdCount()).toBe(fdsBefore);
    });

    it('closes idle connections at once on server.close(), and answers a busy one with Connection: close before closing it', () => {
      let answer: (() => void) | undefined;
      let closedCallback = false;
      return withHttp(
        createLoop,
        {},
        () => (request, response) => {
          if (request.url === '/hold') {
            answer = () => response.respond(200, plain, 'held');
            return;
          }
          response.respond(200, plain, 'quick');
        },
        async ({ server }) => {
          const idle = await openClient(server.address.port);
          idle.socket.write(get('/quick'));
          const [first] = await within(idle.responses(1), 5_000, 'the idle connection’s response');
          expect(first?.headers['connection']).toBe('keep-alive');
          const busy = await openClient(server.address.port);
          busy.socket.write(get('/hold'));
          for (let i = 0; i < 500 && answer === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 5));
          expect(answer).toBeDefined();
          server.close(() => (closedCallback = true));
          // Declared by httpCloseIdle: without it idle connections close once no response is in
          // flight, after the busy one's.
          const closesIdleAtOnce = capabilities.httpCloseIdle;
          if (closesIdleAtOnce) await within(idle.closed, 5_000, 'the idle connection to be closed by server.close()');
          expect(busy.socket.destroyed).toBe(false);
          answer?.();
          const [held] = await within(busy.responses(1), 5_000, 'the busy connection’s response');
          expect([held?.body, held?.headers['connection']]).toEqual(['held', 'close']);
          await within(busy.closed, 5_000, 'the busy connection to be closed after its response');
          if (!closesIdleAtOnce) await within(idle.closed, 5_000, 'the idle connection to be closed once no response is in flight');
          for (let i = 0; i < 200 && !closedCallback; i++) await new Promise((resolve) => setTimeout(resolve, 5));
          expect(closedCallback).toBe(true);
        },
      );
    });

    it('closes a connection whose response was streaming when server.close() was called, once that response ends', () => {
      let finish: (() => void) | undefined;
      // Idle keep-alive connections would close by themselves: only the server's close may close this one.
      const patient = capabilities.httpLimits.keepAliveTimeout ? { keepAliveTimeout: 60_000 } : {};
      return withHttp(
        createLoop,
        patient,
        () => (_request, response) => {
          response.write('part,');
          finish = () => response.end('rest');
        },
        async ({ server }) => {
          const client = await openClient(server.address.port);
          client.socket.write(get('/stream'));
          for (let i = 0; i < 1000 && !client.received().toString('latin1').includes('part,'); i++) await new Promise((resolve) => setTimeout(resolve, 5));
          expect(client.received().toString('latin1')).toContain('part,');
          server.close();
          expect(client.socket.destroyed).toBe(false);
          finish?.();
          const [response] = await within(client.responses(1), 5_000, 'the rest of the streamed response');
          expect(response?.body).toBe('part,rest');
          await within(client.closed, 5_000, 'the connection to be closed after its response');
        },
      );
    });

    it('runs the response close callback once after the response was sent, never aborted, even when the client leaves afterwards', () => {
      const order: string[] = [];
      return withHttp(
        createLoop,
        {},
        () => (request, response) => {
          request.on({ aborted: () => order.push('aborted') });
          response.on({ close: () => order.push(`close (finished: ${String(response.finished)}, aborted: ${String(response.aborted)})`) });
          response.respond(200, plain, 'sent');
        },
        async ({ server }) => {
          const client = await openClient(server.address.port);
          client.socket.write(get('/'));
          const [response] = await within(client.responses(1), 5_000, 'the response');
          expect(response?.body).toBe('sent');
          for (let i = 0; i < 1000 && order.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
          client.socket.destroy();
          await client.closed;
          // Give a wrong aborted callback, or a second close, the time to come.
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(order).toEqual(['close (finished: true, aborted: false)']);
        },
      );
    });

    it('reports the limits in force on the server, and refuses a limit the backend cannot set, naming it', async () => {
      const fdsBefore = openFdCount();
      const loop = createLoop();
      const defaults = await loop.serveHttp({ port: 0 }, () => undefined);
      const keys = Object.keys(capabilities.httpLimits) as (keyof HttpLimits)[];
      for (const key of keys) {
        const value = defaults.limits[key] + 1;
        if (capabilities.httpLimits[key]) {
          const server = await loop.serveHttp({ port: 0, [key]: value }, () => undefined);
          expect(server.limits[key]).toBe(value);
          server.close();
        } else {
          const failure = await loop.serveHttp({ port: 0, [key]: value }, () => undefined).catch((error: unknown) => error);
          expect(failure).toBeInstanceOf(UnsupportedError);
          expect((failure as UnsupportedError).capability).toBe(`httpLimits.${key}`);
          const same = await loop.serveHttp({ port: 0, [key]: defaults.limits[key] }, () => undefined);
          expect(same.limits[key]).toBe(defaults.limits[key]);
          same.close();
        }
      }
      defaults.close();
      await loop.run();
      loop.close();
      expect(openFdCount()).toBe(fdsBefore);
    });
  });
}
