import type { HttpHandler } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

/** A request that closes the connection once answered, so the raw client gets every byte the server sent. */
const GET = 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';
const HEAD = 'HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';

/** The bytes of the one response `handler` sends to `request`, its Date line taken out (it changes every second). */
async function wire(handler: HttpHandler, request = GET): Promise<string> {
  let bytes = '';
  await serve('level', {}, handler, async ({ raw, errors }) => {
    bytes = (await raw(request)).toString('latin1').replace(/Date: [^\r]*\r\n/, '');
    expect(errors).toEqual([]);
  });
  return bytes;
}

describe('response heads and bodies on the wire, byte for byte', () => {
  it('sends a header set twice, in any case, once with its last value and in its first place', async () => {
    const bytes = await wire((_request, response) => {
      response.setHeader('X-A', '1').setHeader('X-B', '2').setHeader('x-a', '3').setHeader('x-b', '4');
      response.respond(200, { 'x-c': '5' }, 'ok');
    });
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nx-a: 3\r\nx-b: 4\r\nx-c: 5\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });

  it("lets a header passed to respond() replace one set before under any case, and keeps the others", async () => {
    const bytes = await wire((_request, response) => {
      response.setHeader('X-Tag', 'old').setHeader('X-Keep', 'k');
      response.respond(200, { 'x-TAG': 'new' }, 'ok');
    });
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nX-Keep: k\r\nx-TAG: new\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });

  it('sends no second Content-Length when one was set with setHeader()', async () => {
    const bytes = await wire((_request, response) => {
      response.setHeader('X-Before', 'b').setHeader('Content-Length', '2').setHeader('X-After', 'a');
      response.end('ok');
    });
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nX-Before: b\r\nContent-Length: 2\r\nX-After: a\r\nConnection: close\r\n\r\nok');
  });

  it('sends no second Content-Length when respond() is given one after another header', async () => {
    const bytes = await wire((_request, response) => {
      response.respond(200, { 'x-first': '1', 'content-length': '2', 'x-last': '3' }, 'ok');
    });
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nx-first: 1\r\ncontent-length: 2\r\nx-last: 3\r\nConnection: close\r\n\r\nok');
  });

  it('gives a 204 answered by respond() no Content-Length', async () => {
    const bytes = await wire((_request, response) => response.respond(204));
    expect(bytes).toBe('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
  });

  it('answers HEAD with the length of the body respond() was given, and no body', async () => {
    const bytes = await wire((_request, response) => response.respond(200, undefined, 'abc'), HEAD);
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n');
  });

  it('streams a 204 with no Transfer-Encoding and without the chunks it was given', async () => {
    const bytes = await wire((_request, response) => {
      response.status(204);
      response.write('abc');
      response.end('def');
    });
    expect(bytes).toBe('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
  });

  it('streams a response with a Content-Length set as plain bytes, not chunked', async () => {
    const bytes = await wire((_request, response) => {
      response.setHeader('Content-Length', '5');
      response.write('abc');
      response.end('de');
    });
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde');
  });

  it('writes no chunk for an empty write() or an empty last chunk, so the body is not cut short', async () => {
    const bytes = await wire((_request, response) => {
      response.write('');
      response.write('abc');
      response.write(new Uint8Array(0));
      response.end('');
    });
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  });

  it('sends nothing more for a second end() or a write() after end(), and write() then returns false', async () => {
    const bytes = await wire((_request, response) => {
      response.write('abc');
      response.end('d');
      response.end('e');
      response.end();
      expect(response.write('f')).toBe(false);
    });
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n');
  });
});
