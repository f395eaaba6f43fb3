import { describe, expect, it } from 'vitest';
import type { HttpHandler } from '@loop/core';
import { serve } from './http-helpers.js';

const chunked = (sizes: number[]): string => `${sizes.map((n) => `${n.toString(16)}\r\n${'z'.repeat(n)}\r\n`).join('')}0\r\n\r\n`;

describe.each(['level', 'edge'] as const)('a chunked body over maxBodySize on raw sockets (%s-triggered)', (trigger) => {
  it('answers 413 and closes when nothing was sent yet, handling nothing pipelined behind it', () => {
    const seen: string[] = [];
    const handler: HttpHandler = (request, response) => {
      const url = request.url;
      seen.push(url);
      request.on({ data: () => undefined, end: () => response.respond(200, { 'content-type': 'text/plain' }, url) });
    };
    return serve(trigger, { maxBodySize: 100 }, handler, async ({ send, errors }) => {
      const responses = await send([`POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${chunked([60, 60])}GET /after HTTP/1.1\r\nHost: t\r\n\r\n`]);
      expect(responses.map((r) => [r.status, r.headers['connection']])).toEqual([[413, 'close']]);
      expect(seen).toEqual(['/big']);
      expect(errors).toEqual([]);
    });
  });

  it('closes the connection, cutting the response short, when its headers already went out', () => {
    let ended = false;
    const handler: HttpHandler = (request, response) => {
      response.setHeader('content-type', 'text/plain');
      response.write('started;');
      request.on({
        data: () => undefined,
        end: () => {
          ended = true;
          response.end('done');
        },
      });
    };
    return serve(trigger, { maxBodySize: 100 }, handler, async ({ raw, errors }) => {
      const text = (await raw([`POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${chunked([60]).slice(0, -5)}`, `${chunked([60]).slice(0, -5)}`], 50)).toString('latin1');
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text).toContain('started;');
      expect(text).not.toContain('done');
      expect(text.endsWith('0\r\n\r\n')).toBe(false);
      expect(ended).toBe(false);
      expect(errors).toEqual([]);
    });
  });
});
