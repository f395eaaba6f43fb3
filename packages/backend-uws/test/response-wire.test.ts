import { describe, expect, it } from 'vitest';
import type { HttpHandler } from '@loop/core';
import { exchange, statuses, withServer } from './helpers.js';

// What a response puts on the wire: the status line, each header once (set, replaced, repeated,
// overridden), the framing of HEAD and bodiless statuses, and the connection's fate. Each case is
// sent on its own connection with `Connection: close` unless it says otherwise.

/** The head of the first response in `text`, its header lines lower-cased by name. */
function head(text: string): { status: string; lines: string[] } {
  const [status = '', ...lines] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
  return { status, lines: lines.map((line) => line.replace(/^[^:]+/, (name) => name.toLowerCase())) };
}

/** The lines of `head` for header `name` (lower case). */
function linesOf(text: string, name: string): string[] {
  return head(text).lines.filter((line) => line.startsWith(`${name}: `));
}

/** The body of the only response in `text`. */
function body(text: string): string {
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

/** One request with `Connection: close`: the response, which must end with the server closing. */
async function get(port: number, method = 'GET', path = '/'): Promise<string> {
  const result = await exchange(port, `${method} ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  expect([method, path, result.closedByServer]).toEqual([method, path, true]);
  return result.text;
}

function serve(handler: HttpHandler, fn: (port: number) => Promise<void>): Promise<void> {
  return withServer({}, handler, (server) => fn(server.address.port));
}

describe('response on the wire', () => {
  it('sends a status without a standard reason as "<code> Unknown", the same each time', () =>
    serve(
      (_request, response) => response.respond(599, {}, 'x'),
      async (port) => {
        for (let i = 0; i < 2; i++) expect(head(await get(port)).status).toBe('HTTP/1.1 599 Unknown');
      },
    ));

  it('sends the standard reason of each status, even one used before with another code', () =>
    serve(
      (request, response) => response.status(Number(request.url.slice(1))).end('x'),
      async (port) => {
        expect(head(await get(port, 'GET', '/418')).status).toBe('HTTP/1.1 418 I\'m a Teapot');
        expect(head(await get(port, 'GET', '/201')).status).toBe('HTTP/1.1 201 Created');
        expect(head(await get(port, 'GET', '/418')).status).toBe('HTTP/1.1 418 I\'m a Teapot');
      },
    ));

  it('replaces a header set twice whatever the case of its name, and repeats an array value as lines', () =>
    serve(
      (_request, response) => {
        response.setHeader('x-tag', 'first').setHeader('X-TAG', 'second');
        response.setHeader('X-List', ['a', 'b']).setHeader('X-Other', 'kept');
        response.setHeader('X-Num', 7);
        response.end('ok');
      },
      async (port) => {
        const text = await get(port);
        expect(linesOf(text, 'x-tag')).toEqual(['x-tag: second']);
        expect(linesOf(text, 'x-list')).toEqual(['x-list: a', 'x-list: b']);
        expect(linesOf(text, 'x-other')).toEqual(['x-other: kept']);
        expect(linesOf(text, 'x-num')).toEqual(['x-num: 7']);
      },
    ));

  it('sends setHeader() headers with respond(), the ones named in respond() (any case) replacing them', () =>
    serve(
      (_request, response) => {
        response.setHeader('X-Kept', 'set').setHeader('X-Over', 'set').setHeader('Content-Length', '999');
        response.respond(201, { 'x-OVER': 'given', 'x-many': ['1', '2'], 'x-num': 3 }, 'body');
      },
      async (port) => {
        const text = await get(port);
        expect(head(text).status).toBe('HTTP/1.1 201 Created');
        expect(linesOf(text, 'x-kept')).toEqual(['x-kept: set']);
        expect(linesOf(text, 'x-over')).toEqual(['x-over: given']);
        expect(linesOf(text, 'x-many')).toEqual(['x-many: 1', 'x-many: 2']);
        expect(linesOf(text, 'x-num')).toEqual(['x-num: 3']);
        // uWS counts the body itself: a declared length is not sent beside it.
        expect(linesOf(text, 'content-length')).toEqual(['content-length: 4']);
        expect(body(text)).toBe('body');
      },
    ));

  it('answers HEAD with the Content-Length a GET would have, from end(), respond() or a declared one, and no body', () =>
    serve(
      (request, response) => {
        if (request.url === '/end') response.end('five!');
        else if (request.url === '/declared') response.setHeader('content-length', '42').end();
        else if (request.url === '/respond-declared') response.respond(200, { 'Content-Length': '77' });
        else if (request.url === '/respond-set') response.setHeader('Content-Length', '66').respond(200, {});
        else if (request.url === '/write') {
          expect(response.write('streamed')).toBe(true);
          response.end();
        } else response.respond(200, {}, 'seven b');
      },
      async (port) => {
        const cases: [string, string][] = [
          ['/end', '5'],
          ['/declared', '42'],
          ['/respond', '7'],
          ['/respond-declared', '77'],
          ['/respond-set', '66'],
        ];
        for (const [path, length] of cases) {
          const text = await get(port, 'HEAD', path);
          expect([path, linesOf(text, 'content-length')]).toEqual([path, [`content-length: ${length}`]]);
          expect([path, body(text)]).toEqual([path, '']);
        }
        const streamed = await get(port, 'HEAD', '/write');
        expect(statuses(streamed)).toEqual([200]);
        expect(body(streamed)).toBe('');
      },
    ));

  it('sends neither a body nor a Content-Length for 204 and 304, from end() or respond(), on HEAD too', () =>
    serve(
      (request, response) => {
        const [, how, code] = request.url.split('/');
        if (how === 'respond') response.respond(Number(code), { 'content-length': '9' }, 'ignored');
        else response.status(Number(code)).end('ignored');
      },
      async (port) => {
        for (const method of ['GET', 'HEAD']) {
          for (const path of ['/respond/204', '/end/204', '/respond/304', '/end/304']) {
            const text = await get(port, method, path);
            expect([method, path, statuses(text).length, linesOf(text, 'content-length'), body(text)]).toEqual([method, path, 1, [], '']);
          }
        }
      },
    ));

  it('keeps a connection alive, saying so in the head, unless the client asked to close it', () =>
    serve(
      (request, response) => {
        if (request.url === '/respond') response.respond(200, {}, 'r');
        else if (request.url === '/stream') {
          response.write('s');
          response.end();
        } else response.end('e');
      },
      async (port) => {
        for (const path of ['/respond', '/end', '/stream']) {
          const open = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`, 300);
          expect([path, open.closedByServer, linesOf(open.text, 'connection')]).toEqual([path, false, ['connection: keep-alive']]);
          const closed = await get(port, 'GET', path);
          expect(linesOf(closed, 'connection')).not.toContain('connection: keep-alive');
          expect(statuses(closed)).toEqual([200]);
        }
      },
    ));

  it('answers a throwing handler with 500 "Internal Server Error" as text/plain and closes the connection', () =>
    withServer(
      {},
      (request) => {
        throw new Error(`boom ${request.url}`);
      },
      async (server, _loop, errors) => {
        const result = await exchange(server.address.port, 'GET /x HTTP/1.1\r\nHost: t\r\n\r\n');
        expect(result.closedByServer).toBe(true);
        expect(head(result.text).status).toBe('HTTP/1.1 500 Internal Server Error');
        expect(linesOf(result.text, 'content-type')).toEqual(['content-type: text/plain']);
        expect(body(result.text)).toBe('Internal Server Error\n');
        expect(errors.map((error) => (error as Error).message)).toEqual(['boom /x']);
      },
    ));

  it('resets a streamed response whose handler throws after the head went out, reporting the error', () =>
    withServer(
      {},
      (_request, response) => {
        response.write('partial');
        throw new Error('late boom');
      },
      async (server, _loop, errors) => {
        const result = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        expect(result.closedByServer).toBe(true);
        expect(statuses(result.text)).toEqual([200]);
        expect(result.text).not.toContain('0\r\n\r\n');
        expect(result.text).not.toContain('500');
        expect(errors.map((error) => (error as Error).message)).toEqual(['late boom']);
      },
    ));
});
