import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

/** What a handler saw of a request: its URL, then `name=value` for each header line. */
type Seen = string[];

describe.each(['level', 'edge'] as const)('request heads handed over in parts on raw sockets (%s-triggered)', (trigger) => {
  it('sees the URL and header lines of each of two long heads on one connection, nothing of the first in the second', () => {
    const seen: Seen[] = [];
    return serve(
      trigger,
      {},
      (request, response) => {
        const lines: Seen = [request.url];
        request.forEachHeader((name, value) => lines.push(`${name}=${value}`));
        seen.push(lines);
        response.respond(204);
      },
      async ({ send }) => {
        const head = (path: string, tag: string, close: boolean): string =>
          `GET ${path} HTTP/1.1\r\nHost: t\r\n${Array.from({ length: 40 }, (_, i) => `X-${tag}${i}: v${i}\r\n`).join('')}${close ? 'Connection: close\r\n' : ''}\r\n`;
        const first = head(`/a${'p'.repeat(200)}`, 'A', false);
        const second = head(`/b${'q'.repeat(200)}`, 'B', true);
        // Each head is cut inside its URL and inside its header lines: llhttp hands both over in parts.
        const responses = await send([first.slice(0, 100), first.slice(100, 500), first.slice(500), second.slice(0, 100), second.slice(100, 500), second.slice(500)], 30);
        expect(responses.map((r) => r.status)).toEqual([204, 204]);
        const expected = (path: string, tag: string, close: boolean): Seen => [
          path,
          'host=t',
          ...Array.from({ length: 40 }, (_, i) => `x-${tag}${i}=v${i}`),
          ...(close ? ['connection=close'] : []),
        ];
        expect(seen).toEqual([expected(`/a${'p'.repeat(200)}`, 'a', false), expected(`/b${'q'.repeat(200)}`, 'b', true)]);
      },
    );
  });

  it.each(['fast', 'llhttp'] as const)('sees no header line in an HTTP/1.0 request that has none (%s parser)', (parser) => {
    const seen: Seen[] = [];
    return serve(
      trigger,
      parser === 'llhttp' ? { parser: 'llhttp' } : {},
      (request, response) => {
        const lines: Seen = [request.url, request.httpVersion];
        request.forEachHeader((name, value) => lines.push(`${name}=${value}`));
        seen.push(lines);
        response.respond(200, { 'content-type': 'text/plain' }, 'ok');
      },
      async ({ send }) => {
        const responses = await send('GET /bare HTTP/1.0\r\n\r\n');
        expect(responses.map((r) => r.body)).toEqual(['ok']);
        expect(seen).toEqual([['/bare', '1.0']]);
      },
    );
  });

  it("keeps a chunked body's long trailer section, read in parts, out of the next request's head", () => {
    const seen: Seen[] = [];
    return serve(
      trigger,
      {},
      (request, response) => {
        const lines: Seen = [request.url];
        request.forEachHeader((name, value) => lines.push(`${name}=${value}`));
        seen.push(lines);
        request.on({ end: () => response.respond(204) });
      },
      async ({ send }) => {
        const trailers = Array.from({ length: 40 }, (_, i) => `X-T${i}: t${i}\r\n`).join('');
        const first = `POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n${trailers}\r\n`;
        const second = 'GET /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';
        const cut = first.indexOf('X-T20');
        // The trailer section is cut in the middle: llhttp hands its first lines over early.
        const responses = await send([first.slice(0, cut), first.slice(cut) + second], 30);
        expect(responses.map((r) => r.status)).toEqual([204, 204]);
        expect(seen).toEqual([
          ['/a', 'host=t', 'transfer-encoding=chunked'],
          ['/b', 'host=t', 'connection=close'],
        ]);
      },
    );
  });
});
