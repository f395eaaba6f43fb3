import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('a long head split across reads on raw sockets (%s-triggered)', (trigger) => {
  it('sees the whole URL and every header line of a head with more than 32 headers that llhttp reads in pieces', () => {
    const seen: string[][] = [];
    return serve(
      trigger,
      {},
      (request, response) => {
        const lines: string[] = [request.url];
        request.forEachHeader((name, value) => lines.push(`${name}=${value}`));
        seen.push(lines);
        response.respond(204);
      },
      async ({ send }) => {
        const headers = Array.from({ length: 70 }, (_, i) => `X-H${i}: v${i}\r\n`).join('');
        const url = `/${'p'.repeat(300)}`;
        const head = `GET ${url} HTTP/1.1\r\nHost: t\r\n${headers}Connection: close\r\n\r\n`;
        // Cut inside the URL, then inside the header lines: llhttp hands over the head in parts.
        const responses = await send([head.slice(0, 100), head.slice(100, 700), head.slice(700)], 30);
        expect(responses.map((r) => r.status)).toEqual([204]);
        const expected = [url, 'host=t', ...Array.from({ length: 70 }, (_, i) => `x-h${i}=v${i}`), 'connection=close'];
        expect(seen).toEqual([expected]);
      },
    );
  });
});
