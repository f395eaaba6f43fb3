import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

const plain = { 'content-type': 'text/plain' };

describe.each(['level', 'edge'] as const)('HTTP request framing on raw sockets (%s-triggered)', (trigger) => {
  it('reads the rest of a body that arrives in a later read as body, even when it looks like a request', () => {
    const seen: string[] = [];
    const fake = 'GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n';
    return serve(
      trigger,
      {},
      (request, response) => {
        seen.push(`${request.method} ${request.url}`);
        const chunks: Buffer[] = [];
        request.on({
          data: (chunk) => chunks.push(Buffer.from(chunk)),
          end: () => response.respond(200, plain, Buffer.concat(chunks).toString('latin1')),
        });
      },
      async ({ send }) => {
        const responses = await send([`POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: ${1 + fake.length}\r\n\r\nx`, fake, 'GET /real HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'], 50);
        expect(seen).toEqual(['POST /upload', 'GET /real']);
        expect(responses.map((r) => r.body)).toEqual([`x${fake}`, '']);
      },
    );
  });

  for (const parser of ['fast', 'llhttp'] as const) {
    it(`handles no request pipelined behind one that asked to close the connection (${parser} parser)`, () => {
      const seen: string[] = [];
      return serve(
        trigger,
        parser === 'llhttp' ? { parser: 'llhttp' } : {},
        (request, response) => {
          seen.push(request.url);
          response.respond(200, plain, request.url);
        },
        async ({ send }) => {
          const responses = await send('GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\nGET /c HTTP/1.1\r\nHost: t\r\n\r\n');
          expect(responses.map((r) => [r.body, r.headers['connection']])).toEqual([['/a', 'close']]);
          expect(seen).toEqual(['/a']);
        },
      );
    });
  }
});
