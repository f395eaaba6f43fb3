import type { HttpResponse } from '@loop/core';
import { describe, expect, it } from 'vitest';
import type { EpollEventLoop } from '../src/index.js';
import { eventually, serve } from './http-helpers.js';

const GET = 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';

/** The code and message of what `fn` throws ('none' if it returns). */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
  return 'none';
}

describe('a response once its headers went out', () => {
  it('refuses status() and setHeader() after respond() with ERR_HEADERS_SENT naming the call', () => {
    const seen: string[] = [];
    return serve(
      'level',
      {},
      (_request, response) => {
        response.respond(200, undefined, 'ok');
        seen.push(thrown(() => response.status(201)));
        seen.push(thrown(() => response.setHeader('X-Late', '1')));
      },
      async ({ send }) => {
        expect((await send(GET)).map((r) => r.body)).toEqual(['ok']);
        expect(seen).toEqual([
          'ERR_HEADERS_SENT: status() was called after the response headers were sent',
          "ERR_HEADERS_SENT: setHeader('X-Late') was called after the response headers were sent",
        ]);
      },
    );
  });

  it('refuses respond() after write() with ERR_HEADERS_SENT, and the streamed response goes on', () => {
    const seen: string[] = [];
    return serve(
      'level',
      {},
      (_request, response) => {
        response.write('a');
        seen.push(thrown(() => response.respond(200)));
        response.end('b');
      },
      async ({ send }) => {
        expect((await send(GET)).map((r) => r.body)).toEqual(['ab']);
        expect(seen).toEqual(['ERR_HEADERS_SENT: respond() was called after the response headers were sent']);
      },
    );
  });

  it('refuses a status out of range in respond() before anything is sent, and can still answer', () => {
    const seen: string[] = [];
    return serve(
      'level',
      {},
      (_request, response) => {
        seen.push(thrown(() => response.respond(99)));
        seen.push(`${response.headersSent}`);
        response.respond(202);
      },
      async ({ send }) => {
        expect((await send(GET)).map((r) => r.status)).toEqual([202]);
        expect(seen).toEqual(['ERR_INVALID_ARG: status must be an integer in [100, 999], got 99', 'false']);
      },
    );
  });
});

describe('error responses the server makes', () => {
  it('answers a throwing handler with 500 "Internal Server Error", and the response then counts as sent and finished', () => {
    let response: HttpResponse | undefined;
    return serve(
      'level',
      {},
      (_request, res) => {
        response = res;
        throw new Error('handler failed');
      },
      async ({ raw, errors }) => {
        const bytes = (await raw(GET)).toString('latin1').replace(/Date: [^\r]*\r\n/, '');
        expect(bytes).toBe('HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: close\r\n\r\nInternal Server Error\n');
        expect(errors.map((e) => (e as Error).message)).toEqual(['handler failed']);
        expect([response?.headersSent, response?.finished]).toEqual([true, true]);
      },
    );
  });

  it.each([
    ['an HTTP/2.0 request line', {}, 'GET / HTTP/2.0\r\nHost: t\r\n\r\n', '505 HTTP Version Not Supported', 'HTTP Version Not Supported\n'],
    ['a URL over maxUrlLength', { maxUrlLength: 16 }, `GET /${'u'.repeat(64)} HTTP/1.1\r\nHost: t\r\n\r\n`, '414 URI Too Long', 'URI Too Long\n'],
    ['a head over maxHeaderSize', { maxHeaderSize: 256 }, `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'v'.repeat(512)}\r\n\r\n`, '431 Request Header Fields Too Large', 'Request Header Fields Too Large\n'],
    ['a head that stops short of its end past headersTimeout', { headersTimeout: 50 }, 'GET / HTTP/1.1\r\nHost: t\r\n', '408 Request Timeout', 'Request Timeout\n'],
  ] as const)('answers %s with its reason phrase as the body', (_what, options, request, status, text) =>
    serve('level', options, (_request, response) => response.respond(200), async ({ raw }) => {
      const bytes = (await raw(request)).toString('latin1').replace(/Date: [^\r]*\r\n/, '');
      expect(bytes).toBe(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n${text}`);
    }),
  );
});

describe("the response's close event", () => {
  it('runs once, after the response ended, for a listener added before the end', () => {
    const log: string[] = [];
    let loop: EpollEventLoop | undefined;
    return serve(
      'level',
      {},
      (_request, response) => {
        response.on({ close: () => log.push('close') });
        response.write('a');
        log.push('wrote');
        // End from a later tick of the loop: close must not come before it.
        const timer = (loop as EpollEventLoop).timer(() => {
          timer.close();
          response.end('b');
          log.push('ended');
        });
        timer.start(1);
      },
      async ({ send, loop: serving }) => {
        loop = serving;
        expect((await send(GET)).map((r) => r.body)).toEqual(['ab']);
        await eventually(() => log.includes('close'), 'close event');
        expect(log).toEqual(['wrote', 'ended', 'close']);
      },
    );
  });

  it('runs once for a listener added after the response went out, even when added twice', () => {
    const calls: string[] = [];
    let response: HttpResponse | undefined;
    return serve(
      'level',
      {},
      (_request, res) => {
        response = res;
        res.respond(200, undefined, 'ok');
      },
      async ({ send, loop }) => {
        expect((await send(GET)).map((r) => r.body)).toEqual(['ok']);
        const timer = loop.timer(() => {
          timer.close();
          response?.on({ close: () => calls.push('first') });
          response?.on({ close: () => calls.push('second') });
        });
        timer.start(0);
        await eventually(() => calls.length > 0, 'close event');
        // One more turn of the loop for a second call, if one were due.
        await new Promise<void>((resolve) => {
          const again = loop.timer(() => {
            again.close();
            resolve();
          });
          again.start(1);
        });
        expect(calls).toEqual(['second']);
      },
    );
  });
});
