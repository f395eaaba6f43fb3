import { describe, expect, it } from 'vitest';
import type { HttpHandler } from '@loop/core';
import { exchange, statuses, withServer } from './helpers.js';

// What RFC 9112 says a server must refuse and uWebSockets.js lets through is refused by the
// backend, before the handler sees it, with the status and a closed connection; the server goes
// on serving. Each case checks all four.
const seen: string[] = [];
const handler: HttpHandler = (request, response) => {
  seen.push(request.url);
  request.on({ end: () => response.respond(200, { 'content-type': 'text/plain' }, 'ok') });
};

const get = (head: string): string => `GET /bad HTTP/1.1\r\n${head}\r\n`;
const cases: [string, string, number][] = [
  ['conflicting Content-Length headers', 'POST /bad HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['Transfer-Encoding: chunked, identity', 'POST /bad HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding: chunked applied twice', 'POST /bad HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['a transfer coding it does not implement, with 501', 'POST /bad HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
  ['two Host lines', get('Host: a\r\nHost: b\r\n'), 400],
  ['a Host that is not an authority', get('Host: a b/c\r\n'), 400],
  ['DEL in a field value', get('Host: t\r\nX-Del: a\x7fb\r\n'), 400],
];

// Shapes uWS closes by itself, without a status, before any callback (so before the handler):
// the backend never sees them and cannot answer 400.
const closedByUws: [string, string][] = [
  ['a request without Host', get('X-Other: 1\r\n')],
  ['a Content-Length that is not digits', 'POST /bad HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello'],
  ['a Transfer-Encoding whose last coding is not chunked', 'POST /bad HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\nhello'],
  ['both Transfer-Encoding and Content-Length', 'POST /bad HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n'],
];

describe('bad input', () => {
  for (const [what, payload, status] of cases) {
    it(`refuses ${what} with ${status} and closes, before the handler, and goes on serving`, () =>
      withServer({}, handler, async (server) => {
        seen.length = 0;
        const refused = await exchange(server.address.port, payload);
        expect(statuses(refused.text)).toEqual([status]);
        expect(refused.text).toContain('Connection: close');
        expect(refused.closedByServer).toBe(true);
        expect(seen).toEqual([]);
        const next = await exchange(server.address.port, 'GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect(statuses(next.text)).toEqual([200]);
        expect(seen).toEqual(['/after']);
      }));
  }

  for (const [what, payload] of closedByUws) {
    it(`closes ${what} without serving it (uWS closes it before any callback), and goes on serving`, () =>
      withServer({}, handler, async (server) => {
        seen.length = 0;
        const refused = await exchange(server.address.port, payload);
        expect(refused.closedByServer).toBe(true);
        expect(refused.ms).toBeLessThan(1_000);
        expect(seen).toEqual([]);
        const next = await exchange(server.address.port, 'GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect(statuses(next.text)).toEqual([200]);
      }));
  }

  it('sees no header line after one with an empty field name (uWS ends its list there): a declared gap', () =>
    withServer(
      {},
      (request, response) => {
        response.respond(200, {}, `${request.header('x-before') ?? '-'} ${request.header('x-after') ?? '-'}`);
      },
      async (server) => {
        const result = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nX-Before: 1\r\n: empty\r\nX-After: 2\r\n\r\n', 300);
        expect(result.text.endsWith('1 -')).toBe(true);
      },
    ));

  it('closes garbage at once when it fills uWS’s 4 KiB head buffer, and goes on serving', () =>
    withServer({}, handler, async (server) => {
      const refused = await exchange(server.address.port, Buffer.alloc(5000, 'garbage '));
      expect(refused.closedByServer).toBe(true);
      expect(refused.ms).toBeLessThan(1_000);
      const next = await exchange(server.address.port, 'GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      expect(statuses(next.text)).toEqual([200]);
    }));

  it('closes a short garbage head within uWS’s fixed 10 s timeout instead of hanging, and serves others meanwhile', () =>
    withServer({}, handler, async (server) => {
      const garbage = exchange(server.address.port, 'THIS IS NOT HTTP\r\n\r\n', 15_000);
      const meanwhile = await exchange(server.address.port, 'GET /meanwhile HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      expect(statuses(meanwhile.text)).toEqual([200]);
      const refused = await garbage;
      expect(refused.closedByServer).toBe(true);
      expect(refused.ms).toBeLessThan(server.limits.headersTimeout + 2_000);
    }), 20_000);

  it('refuses a request pipelined behind a refused one instead of serving it', () =>
    withServer({}, handler, async (server) => {
      seen.length = 0;
      const refused = await exchange(server.address.port, get('Host: a\r\nHost: b\r\n') + 'GET /behind HTTP/1.1\r\nHost: t\r\n\r\n');
      expect(refused.closedByServer).toBe(true);
      expect(seen).toEqual([]);
      expect([[], [400]]).toContainEqual(statuses(refused.text));
    }));
});
