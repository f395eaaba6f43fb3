import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

// maxHeaderSize above maxUrlLength, so that a head within both limits is longer than either alone.
const LIMITS = { maxHeaderSize: 3000, maxUrlLength: 1000 };

/** A request whose URL is `urlLength` bytes and whose header lines ("name: value\r\n") take `headerBytes` bytes. */
function request(urlLength: number, headerBytes: number): string {
  const url = `/${'u'.repeat(urlLength - 1)}`;
  const fixed = 'Host: t\r\nConnection: close\r\n';
  const filler = headerBytes - fixed.length - 'X-Fill: \r\n'.length;
  return `GET ${url} HTTP/1.1\r\n${fixed}X-Fill: ${'f'.repeat(filler)}\r\n\r\n`;
}

describe('head size limits: the URL and the header lines each count against their own limit', () => {
  for (const parser of ['fast', 'llhttp'] as const) {
    it(`answers a head whose URL and header lines are each at their limit, longer than either limit alone (${parser} parser)`, async () => {
      let seen = 0;
      await serve('level', { ...LIMITS, parser }, (req, response) => {
        seen = req.url.length;
        response.respond(200, {}, 'ok');
      }, async ({ send, errors }) => {
        const responses = await send(request(1000, 3000));
        expect(responses.map((r) => [r.status, r.body])).toEqual([[200, 'ok']]);
        expect(errors).toEqual([]);
      });
      expect(seen).toBe(1000);
    });

    it(`answers 431 to header lines one byte over maxHeaderSize and 414 to a URL one byte over maxUrlLength (${parser} parser)`, async () => {
      await serve('level', { ...LIMITS, parser }, (_req, response) => {
        response.respond(200, {}, 'ok');
      }, async ({ send }) => {
        expect((await send(request(1000, 3001))).map((r) => r.status)).toEqual([431]);
        expect((await send(request(1001, 3000))).map((r) => r.status)).toEqual([414]);
      });
    });
  }
});
