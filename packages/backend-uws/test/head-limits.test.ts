import { describe, expect, it } from 'vitest';
import type { HttpHandler } from '@loop/core';
import { exchange, statuses, withServer } from './helpers.js';

// The request head against the server's limits (at the limit is served, one past it refused with
// its status) and the few header values the backend reads itself: Connection, Content-Length, DEL.

const seen: string[] = [];
const handler: HttpHandler = (request, response) => {
  seen.push(request.url);
  let size = 0;
  request.on({
    data: (chunk) => {
      size += chunk.byteLength;
    },
    end: () => response.respond(200, {}, `got ${size}`),
  });
};

describe('request head limits and values', () => {
  it('serves a URL of exactly maxUrlLength and refuses one byte more with 414', () =>
    withServer({ maxUrlLength: 64 }, handler, async (server) => {
      seen.length = 0;
      const at = `/${'a'.repeat(63)}`;
      const ok = await exchange(server.address.port, `GET ${at} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      expect(statuses(ok.text)).toEqual([200]);
      const over = await exchange(server.address.port, `GET ${at}b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      expect(statuses(over.text)).toEqual([414]);
      expect(seen).toEqual([at]);
    }));

  it('counts the query in the URL length', () =>
    withServer({ maxUrlLength: 13 }, handler, async (server) => {
      const ok = await exchange(server.address.port, 'GET /p?q=12345678 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      expect(statuses(ok.text)).toEqual([200]);
      const over = await exchange(server.address.port, 'GET /p?q=123456789 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      expect(statuses(over.text)).toEqual([414]);
    }));

  it('serves a declared body of exactly maxBodySize and refuses one byte more with 413 before reading it', () =>
    withServer({ maxBodySize: 8 }, handler, async (server) => {
      seen.length = 0;
      const ok = await exchange(server.address.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\nConnection: close\r\n\r\n12345678');
      expect(statuses(ok.text)).toEqual([200]);
      expect(ok.text.endsWith('got 8')).toBe(true);
      const over = await exchange(server.address.port, 'POST /over HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\nConnection: close\r\n\r\n123456789');
      expect(statuses(over.text)).toEqual([413]);
      expect(seen).toEqual(['/']);
    }));

  it('accepts a Content-Length repeated with the same value, and Content-Length: 0 as no body', () =>
    withServer({}, handler, async (server) => {
      const same = await exchange(server.address.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
      expect(statuses(same.text)).toEqual([200]);
      expect(same.text.endsWith('got 3')).toBe(true);
      const zero = await exchange(server.address.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      expect(statuses(zero.text)).toEqual([200]);
      expect(zero.text.endsWith('got 0')).toBe(true);
      const zeroThenOne = await exchange(server.address.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\nx');
      expect(statuses(zeroThenOne.text)).toEqual([400]);
    }));

  it('refuses DEL anywhere in a field value, the first character included, with 400', () =>
    withServer({}, handler, async (server) => {
      const first = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nX-Del: \x7fab\r\n\r\n');
      expect(statuses(first.text)).toEqual([400]);
    }));

  const closing: [string, boolean][] = [
    ['close', true],
    ['Close', true],
    ['keep-alive, close', true],
    ['close ,TE', true],
    ['keep-alive,  close  ', true],
    ['keep-alive', false],
    ['closed', false],
    ['not-close', false],
  ];
  for (const [value, closes] of closing) {
    it(`${closes ? 'closes' : 'keeps'} the connection after answering "Connection: ${value}"`, () =>
      withServer({}, handler, async (server) => {
        const result = await exchange(server.address.port, `GET / HTTP/1.1\r\nHost: t\r\nConnection: ${value}\r\n\r\n`, closes ? 3_000 : 300);
        expect(statuses(result.text)).toEqual([200]);
        expect(result.closedByServer).toBe(closes);
        expect(result.text.includes('Connection: keep-alive')).toBe(!closes);
      }));
  }
});
