import { describe, expect, it } from 'vitest';
import type { HttpHandler } from '@loop/core';
import { serve } from './http-helpers.js';

const echo: HttpHandler = (request, response) => {
  const chunks: Buffer[] = [];
  const what = `${request.method} ${request.url}`;
  request.on({
    data: (chunk) => chunks.push(Buffer.from(chunk)),
    end: () => response.respond(200, { 'content-type': 'text/plain' }, `${what} ${Buffer.concat(chunks).length}`),
  });
};

// RFC 9112 input llhttp rejects, and what the backend adds where llhttp is lenient (HTTP/0.9
// request lines, other major versions, a missing or repeated Host). Each must be answered with
// the status, the connection closed, and the server must go on serving.
const cases: [string, string, number][] = [
  ['Content-Length together with Transfer-Encoding (request smuggling)', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['two different Content-Length values', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
  ['a repeated Content-Length, even with the same value', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab', 400],
  ['a malformed Content-Length', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\nab', 400],
  ['a negative Content-Length', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n', 400],
  ['a Transfer-Encoding that does not end in chunked', 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nab', 400],
  ['a chunk size that is not hex', 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400],
  ['a chunk size that overflows', 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nx\r\n0\r\n\r\n', 400],
  ['obs-fold (a header line continued on the next line)', 'GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n', 400],
  ['a bare LF ending the request line', 'GET / HTTP/1.1\nHost: t\r\n\r\n', 400],
  ['a bare LF ending a header line', 'GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n', 400],
  ['a bare CR inside a header line', 'GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n', 400],
  ['an HTTP/0.9 request line (no version)', 'GET /\r\n\r\n', 400],
  ['HTTP/0.9 spelled out', 'GET / HTTP/0.9\r\n\r\n', 400],
  ['another major version', 'GET / HTTP/2.0\r\nHost: t\r\n\r\n', 505],
  ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\nX: y\r\n\r\n', 400],
  ['an HTTP/1.1 request with two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['whitespace between a header name and its colon', 'GET / HTTP/1.1\r\nHost : t\r\n\r\n', 400],
  ['a header name with a character outside tchar', 'GET / HTTP/1.1\r\nHost: t\r\nX(y): z\r\n\r\n', 400],
  ['a method with a character outside tchar', 'G(T / HTTP/1.1\r\nHost: t\r\n\r\n', 400],
  ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n', 400],
  ['garbage', 'THIS IS NOT HTTP\r\n\r\n', 400],
];

describe.each(['level', 'edge'] as const)('RFC 9112 input the server refuses (%s-triggered)', (trigger) => {
  for (const [what, payload, status] of cases) {
    it(`answers ${what} with ${status}, closes the connection, and goes on serving`, () =>
      serve(trigger, {}, echo, async ({ send, errors }) => {
        const refused = await send(payload);
        expect(refused.map((r) => [r.status, r.headers['connection']])).toEqual([[status, 'close']]);
        const next = await send('POST /after HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
        expect(next.map((r) => [r.status, r.body])).toEqual([[200, 'POST /after 3']]);
        expect(errors).toEqual([]);
      }));
  }

  it('answers what came before a refused request on the same connection, in order, then closes', () =>
    serve(trigger, {}, echo, async ({ send }) => {
      const responses = await send('GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
      expect(responses.map((r) => [r.status, r.body])).toEqual([
        [200, 'GET /first 0'],
        [400, 'Bad Request\n'],
      ]);
    }));

  it('serves an HTTP/1.0 request without Host, and closes after it unless asked to keep alive', () =>
    serve(trigger, {}, echo, async ({ send }) => {
      const [plain] = await send('GET /old HTTP/1.0\r\n\r\n');
      expect([plain?.status, plain?.body, plain?.headers['connection']]).toEqual([200, 'GET /old 0', 'close']);
      const kept = await send(['GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'GET /b HTTP/1.0\r\n\r\n'], 20);
      expect(kept.map((r) => [r.body, r.headers['connection']])).toEqual([
        ['GET /a 0', 'keep-alive'],
        ['GET /b 0', 'close'],
      ]);
    }));
});
