import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import type { HttpLimits, HttpServerOptions } from '../http.js';
import { forCapability, get, parseResponses, rawExchange, recordingLoop, within, type LoopFactory } from './helpers.js';
import { hello, serveHello, withHttp } from './http-fixture.js';

/** The HTTP/1.1 server surface: keep-alive, pipelining, bodies, limits, errors, fd hygiene. */
export function defineHttpSuite(createLoop: LoopFactory, capabilities: Capabilities): void {
  forCapability(capabilities.http, 'http server', () => {
    it('keeps a connection alive across requests', () =>
      withHttp(createLoop, {}, serveHello, async ({ send }) => {
        const responses = await send([get('/one'), get('/two', 'Connection: close\r\n')], 20);
        expect(responses.map((r) => [r.status, r.body])).toEqual([
          [200, 'hello GET /one'],
          [200, 'hello GET /two'],
        ]);
        expect(responses[0]?.headers['connection']).toBe('keep-alive');
      }));

    it('answers HEAD with the head alone, for a body ended in one go or streamed, and then the next request on the connection', () =>
      withHttp(
        createLoop,
        {},
        () => (request, response) => {
          response.setHeader('content-type', 'text/plain');
          if (request.url === '/streamed') {
            response.write('hello ');
            response.end('world');
          } else response.end('hello world');
        },
        async ({ server }) => {
          const raw = await rawExchange(
            server.address.port,
            ['HEAD /whole HTTP/1.1\r\nHost: x\r\n\r\n', 'HEAD /streamed HTTP/1.1\r\nHost: x\r\n\r\n', get('/whole', 'Connection: close\r\n')],
            20,
          );
          // No body, not even a chunked body's last chunk: a client reads the next bytes as the next response.
          const answers = raw.toString('latin1').split(/(?=HTTP\/1\.1 )/);
          expect(answers).toHaveLength(3);
          for (const head of answers.slice(0, 2)) expect(head).toMatch(/^HTTP\/1\.1 200 [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n$/);
          expect(answers[0]).not.toMatch(/\r\ncontent-length: (?!11\r\n)/i);
          expect(parseResponses(Buffer.from(answers[2] ?? '', 'latin1')).map((r) => [r.status, r.body])).toEqual([[200, 'hello world']]);
        },
      ));

    it('closes the connection after a response whose own Connection header says close, as a string or in any line of an array', () =>
      withHttp(
        createLoop,
        {},
        () => (request, response) => {
          if (request.url === '/string') response.setHeader('connection', 'close');
          if (request.url === '/array') response.setHeader('connection', ['keep-alive', 'Close']);
          response.end(`answered ${request.url}`);
        },
        async ({ server }) => {
          for (const url of ['/string', '/array']) {
            // The client asks to keep the connection: only the response's own header can end it.
            const raw = await within(rawExchange(server.address.port, get(url)), 5_000, `the server to close the connection after ${url}`);
            const responses = parseResponses(raw);
            expect(responses.map((r) => r.body)).toEqual([`answered ${url}`]);
            expect(responses[0]?.headers['connection']).toMatch(/\bclose\b/i);
          }
        },
      ));

    forCapability(
      capabilities.httpPipelining,
      'pipelining behind a pending response',
      () => {
        it('answers three pipelined requests in order, even when the first is the slowest', () =>
          withHttp(
            createLoop,
            {},
            (loop) => (request, response) => {
              const url = request.url; // the head is valid during the handler's call only
              const timer = loop.timer(() => {
                timer.close();
                response.end(url);
              });
              timer.start(url === '/slow' ? 30 : 0);
            },
            async ({ send }) => {
              const responses = await send(get('/slow') + get('/fast') + get('/last', 'Connection: close\r\n'));
              expect(responses.map((r) => r.body)).toEqual(['/slow', '/fast', '/last']);
            },
          ));
      },
      () => {
        it('may close a connection that pipelines behind a pending response, and goes on serving others', () =>
          withHttp(
            createLoop,
            {},
            (loop) => (request, response) => {
              const url = request.url;
              const timer = loop.timer(() => {
                timer.close();
                response.end(url);
              });
              timer.start(url === '/slow' ? 30 : 0);
            },
            async ({ send }) => {
              const responses = await send(get('/slow') + get('/fast') + get('/last', 'Connection: close\r\n'));
              // Whatever was answered came in order; the rest of the connection may have been cut.
              const bodies = responses.map((r) => r.body);
              expect(['/slow', '/fast', '/last'].slice(0, bodies.length)).toEqual(bodies);
              const next = await send(get('/after', 'Connection: close\r\n'));
              expect(next.map((r) => r.body)).toEqual(['/after']);
            },
          ));
      },
    );

    it('delivers a chunked request body as data then end', () =>
      withHttp(
        createLoop,
        {},
        () => (request, response) => {
          const chunks: Buffer[] = [];
          request.on({
            data: (chunk) => chunks.push(Buffer.from(chunk)),
            end: () => response.end(`got ${Buffer.concat(chunks).toString()}`),
          });
        },
        async ({ send }) => {
          const head = 'POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
          const responses = await send([head, '5\r\nhello\r\n', '6\r\n world\r\n', '0\r\n\r\n'], 10);
          expect(responses.map((r) => [r.status, r.body])).toEqual([[200, 'got hello world']]);
        },
      ));

    it('holds a paused request body until resume(), then delivers it in order with end last', () => {
      const log: string[] = [];
      return withHttp(
        createLoop,
        {},
        (loop) => (request, response) => {
          request.on({
            data: (chunk) => log.push(`data:${Buffer.from(chunk).toString()}`),
            end: () => {
              log.push('end');
              response.end('done');
            },
          });
          request.pause();
          log.push('paused');
          // Resumed only once both parts of the body have been sent (the client waits 20 ms
          // between them): whatever arrived meanwhile was held, none of it reached `data`.
          const timer = loop.timer(() => {
            timer.close();
            log.push('resume');
            request.resume();
          });
          timer.start(60);
        },
        async ({ send }) => {
          const head = 'POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\nConnection: close\r\n\r\n';
          const responses = await send([`${head}hello`, ' world'], 20);
          expect(responses.map((r) => [r.status, r.body])).toEqual([[200, 'done']]);
          expect(log.slice(0, 2)).toEqual(['paused', 'resume']);
          expect(log.at(-1)).toBe('end');
          const data = log.slice(2, -1);
          expect(data.every((entry) => entry.startsWith('data:'))).toBe(true);
          expect(data.map((entry) => entry.slice(5)).join('')).toBe('hello world');
        },
      );
    });

    it('refuses a response chunk that is neither a string nor bytes with InvalidArgumentError, sending nothing', () => {
      const refused: unknown[] = [];
      return withHttp(
        createLoop,
        {},
        () => (_request, response) => {
          for (const attempt of [() => response.write(42 as never), () => response.end({} as never), () => response.respond(200, {}, null as never)]) {
            try {
              attempt();
              refused.push('accepted');
            } catch (error) {
              refused.push([error instanceof InvalidArgumentError, (error as InvalidArgumentError).code]);
            }
          }
          response.end('still answered');
        },
        async ({ send }) => {
          const responses = await send(get('/', 'Connection: close\r\n'));
          expect(responses.map((r) => [r.status, r.body])).toEqual([[200, 'still answered']]);
          expect(refused).toEqual([
            [true, 'ERR_INVALID_ARG'],
            [true, 'ERR_INVALID_ARG'],
            [true, 'ERR_INVALID_ARG'],
          ]);
        },
      );
    });

    it('streams a large response with backpressure and drain', () =>
      withHttp(
        createLoop,
        {},
        () => (_request, response) => {
          const chunk = Buffer.alloc(64 * 1024, 'x');
          let left = 256; // 16 MiB
          const pump = (): void => {
            while (left > 0) {
              left--;
              if (!response.write(chunk)) return;
            }
            response.end();
          };
          response.on({ drain: pump });
          pump();
        },
        async ({ send }) => {
          const [response] = await send(get('/big', 'Connection: close\r\n'));
          expect(response?.status).toBe(200);
          expect(response?.body.length).toBe(16 * 1024 * 1024);
        },
      ));

    describe('limits', () => {
      const settable = capabilities.httpLimits;
      const wanted: HttpServerOptions = { maxUrlLength: 64, maxHeaderCount: 8, maxHeaderSize: 512, maxBodySize: 100 };
      // Only the limits this backend can set are asked for; the others are tested as declared below.
      const limits = Object.fromEntries(Object.entries(wanted).filter(([key]) => settable[key as keyof HttpLimits])) as HttpServerOptions;
      const cases: [keyof HttpLimits | 'parser', string, string | string[], number][] = [
        ['maxUrlLength', 'a URL over maxUrlLength with 414', get(`/${'u'.repeat(100)}`), 414],
        ['maxHeaderCount', 'more headers than maxHeaderCount with 431', get('/', Array.from({ length: 10 }, (_, i) => `X-H${i}: v\r\n`).join('')), 431],
        ['maxHeaderSize', 'headers over maxHeaderSize with 431', get('/', `X-Big: ${'b'.repeat(600)}\r\n`), 431],
        ['maxBodySize', 'a declared body over maxBodySize with 413', `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n${'x'.repeat(101)}`, 413],
        [
          'maxBodySize',
          'a chunked body that grows over maxBodySize with 413',
          ['POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n', `64\r\n${'x'.repeat(100)}\r\n`, `10\r\n${'y'.repeat(16)}\r\n`, '0\r\n\r\n'],
          413,
        ],
        ['parser', 'malformed input with 400', 'THIS IS NOT HTTP\r\n\r\n', 400],
      ];
      for (const [limit, what, payload, status] of cases) {
        if (limit !== 'parser' && !settable[limit]) continue;
        it(`answers ${what}, closes that connection, and goes on serving`, () =>
          withHttp(
            createLoop,
            limits,
            () => (request, response) => {
              request.on({ data: () => undefined, end: () => response.end('ok') });
            },
            async ({ send }) => {
              const refused = await send(payload, 10);
              if (limit === 'parser' && !capabilities.httpBadRequest) {
                // Declared: such a backend closes a malformed head's connection without a status
                // (at its head timeout at the latest), or answers 400.
                expect([[], [status]]).toContainEqual(refused.map((r) => r.status));
              } else {
                expect(refused.map((r) => r.status)).toEqual([status]);
              }
              const next = await send(get('/after', 'Connection: close\r\n'));
              expect(next.map((r) => [r.status, r.body])).toEqual([[200, 'ok']]);
            },
          ));
      }

      if (settable.headersTimeout) {
        it('answers 408 when the headers do not arrive within headersTimeout', () =>
          withHttp(createLoop, { headersTimeout: 100 }, serveHello, async ({ send }) => {
            const responses = await send('GET / HTTP/1.1\r\nHost: t\r\n');
            expect(responses.map((r) => r.status)).toEqual([408]);
          }));
      }

      if (settable.keepAliveTimeout) {
        it('closes an idle keep-alive connection after keepAliveTimeout', () =>
          withHttp(createLoop, { keepAliveTimeout: 50 }, serveHello, async ({ send }) => {
            // No "Connection: close": the server ends the exchange by itself once idle.
            const responses = await send(get('/idle'));
            expect(responses.map((r) => [r.status, r.body])).toEqual([[200, 'hello GET /idle']]);
          }));
      }

      it('rejects out-of-range limits with ERR_INVALID_ARG', async () => {
        const { loop } = recordingLoop(createLoop);
        await expect(loop.serveHttp({ port: 0, maxBodySize: -1 }, hello)).rejects.toEqual(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        loop.close();
      });
    });

    describe('handler errors', () => {
      it('answers 500 when the handler throws, reports the error, and goes on serving', () =>
        withHttp(
          createLoop,
          {},
          () => (request, response) => {
            if (request.url === '/boom') throw new Error('handler exploded');
            response.end('fine');
          },
          async ({ send, errors }) => {
            const failed = await send(get('/boom') + get('/never'));
            // Without httpPipelining the backend may close a connection that pipelines behind a
            // failed request instead of answering it; either way '/never' is not answered.
            if (capabilities.httpPipelining) expect(failed.map((r) => r.status)).toEqual([500]);
            else expect([[], [500]]).toContainEqual(failed.map((r) => r.status));
            expect(errors.map((e) => (e.error as Error).message)).toEqual(['handler exploded']);
            const next = await send(get('/ok', 'Connection: close\r\n'));
            expect(next.map((r) => r.body)).toEqual(['fine']);
          },
        ));

      it('answers 500 when a request body callback throws, and reports the error', () =>
        withHttp(
          createLoop,
          {},
          () => (request, response) => {
            request.on({
              data: () => {
                throw new Error('body callback exploded');
              },
              end: () => response.end('unreachable'),
            });
          },
          async ({ send, errors }) => {
            const failed = await send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody');
            expect(failed.map((r) => r.status)).toEqual([500]);
            expect(errors.map((e) => (e.error as Error).message)).toEqual(['body callback exploded']);
          },
        ));

      it('answers 500 when an async handler rejects, and reports the error', () =>
        withHttp(
          createLoop,
          {},
          () => async () => {
            await Promise.resolve();
            throw new Error('async exploded');
          },
          async ({ send, errors }) => {
            const failed = await send(get('/'));
            expect(failed.map((r) => r.status)).toEqual([500]);
            expect(errors.map((e) => (e.error as Error).message)).toEqual(['async exploded']);
          },
        ));

      it('tells the handler when the client goes away before the response', () => {
        const order: string[] = [];
        let requestSeen!: () => void;
        const seen = new Promise<void>((resolve) => (requestSeen = resolve));
        let abortSeen!: () => void;
        const aborted = new Promise<void>((resolve) => (abortSeen = resolve));
        return withHttp(
          createLoop,
          {},
          () => (request) => {
            order.push('request');
            request.on({
              aborted: () => {
                order.push('aborted');
                abortSeen();
              },
            });
            requestSeen();
          },
          async ({ server }) => {
            const client = connect({ host: '127.0.0.1', port: server.address.port });
            client.on('error', () => undefined);
            client.write(get('/hang'));
            await within(seen, 5_000, 'request to arrive');
            client.destroy();
            await within(aborted, 5_000, 'aborted callback');
            expect(order).toEqual(['request', 'aborted']);
          },
        );
      });
    });
  }, () => {
    it('serveHttp() rejects with UnsupportedError', async () => {
      const { loop } = recordingLoop(createLoop);
      await expect(loop.serveHttp({ port: 0 }, hello)).rejects.toBeInstanceOf(UnsupportedError);
      loop.close();
    });
  });
}
