import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { exchange, statuses, withServer } from './helpers.js';

// Misuse of a response (wrong types, out-of-range statuses, unsafe header text, calls after the
// head went out) throws a typed error with a stable code and a message naming the mistake, at the
// call, and loses nothing: the handler can still answer.

/** Run `misuse` in a handler, record what it threw, then answer 200 with what was recorded. */
function recorded(misuse: (response: HttpResponse) => void): Promise<{ error: unknown; text: string }> {
  let error: unknown;
  let text = '';
  return withServer(
    {},
    (_request, response) => {
      try {
        misuse(response);
      } catch (caught) {
        error = caught;
      }
      if (!response.finished) response.end('still answered');
    },
    async (server) => {
      const result = await exchange(server.address.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
      expect(statuses(result.text)).toHaveLength(1);
      text = result.text;
    },
  ).then(() => ({ error, text }));
}

const notAChunk = 42 as unknown as string;
const nullChunk = null as unknown as string;

describe('response misuse', () => {
  const chunkCases: [string, (response: HttpResponse) => void, string][] = [
    ['write() of a number', (response) => response.write(notAChunk), 'data must be a string or a Uint8Array, got number'],
    ['write() of null', (response) => response.write(nullChunk), 'data must be a string or a Uint8Array, got null'],
    ['end() of a number', (response) => response.end(notAChunk), 'data must be a string or a Uint8Array, got number'],
    ['respond() with a number body', (response) => response.respond(200, {}, notAChunk), 'data must be a string or a Uint8Array, got number'],
  ];
  for (const [what, misuse, message] of chunkCases) {
    it(`refuses ${what} with a TypeError coded ERR_INVALID_ARG, sends nothing, and lets the handler answer`, async () => {
      const { error, text: wire } = await recorded(misuse);
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARG', message });
      expect(statuses(wire)).toEqual([200]);
      expect(wire.endsWith('still answered')).toBe(true);
    });
  }

  const statusCases: [unknown, string][] = [
    [99, 'status must be an integer in [100, 999], got 99'],
    [1000, 'status must be an integer in [100, 999], got 1000'],
    [200.5, 'status must be an integer in [100, 999], got 200.5'],
    ['200', 'status must be an integer in [100, 999], got 200'],
  ];
  for (const [code, message] of statusCases) {
    it(`refuses status(${JSON.stringify(code)}) and respond(${JSON.stringify(code)}) with ERR_INVALID_ARG and keeps the status it had`, async () => {
      const viaStatus = await recorded((response) => response.status(code as number));
      expect(viaStatus.error).toMatchObject({ code: 'ERR_INVALID_ARG', message });
      expect(statuses(viaStatus.text)).toEqual([200]);
      const viaRespond = await recorded((response) => response.respond(code as number, {}, 'x'));
      expect(viaRespond.error).toMatchObject({ code: 'ERR_INVALID_ARG', message });
      expect(statuses(viaRespond.text)).toEqual([200]);
    });
  }

  it('accepts the bounds of the status range, 100 excluded only by its meaning: 999 goes out as "999 Unknown"', async () => {
    const { error, text: wire } = await recorded((response) => response.status(999));
    expect(error).toBeUndefined();
    expect(wire.startsWith('HTTP/1.1 999 Unknown\r\n')).toBe(true);
  });

  const headerCases: [string, (response: HttpResponse) => void, string, string][] = [
    ['a header name with a space', (response) => response.setHeader('x bad', 'v'), 'ERR_INVALID_ARG', 'invalid header name "x bad"'],
    ['an empty header name', (response) => response.setHeader('', 'v'), 'ERR_INVALID_ARG', 'invalid header name ""'],
    ['CR LF in a header value (response splitting)', (response) => response.setHeader('x-split', 'a\r\nSet-Cookie: evil'), 'ERR_INVALID_ARG', "invalid character in the value of header 'x-split'"],
    ['CR LF in an item of an array value', (response) => response.setHeader('x-list', ['ok', 'a\nb']), 'ERR_INVALID_ARG', "invalid character in the value of header 'x-list'"],
    ['NaN as a header value', (response) => response.setHeader('x-n', Number.NaN), 'ERR_INVALID_ARG', "header 'x-n' must be a string, a finite number or an array of strings"],
    ['a boolean as a header value', (response) => response.setHeader('x-b', true as unknown as string), 'ERR_INVALID_ARG', "header 'x-b' must be a string, a finite number or an array of strings"],
    ['a bad header name in respond()', (response) => response.respond(200, { 'x(y)': '1' }, 'x'), 'ERR_INVALID_ARG', 'invalid header name "x(y)"'],
    ['CR LF in a respond() array value', (response) => response.respond(200, { 'x-a': ['1', '2\r\n'] }, 'x'), 'ERR_INVALID_ARG', "invalid character in the value of header 'x-a'"],
    ['an Infinity header value in respond()', (response) => response.respond(200, { 'x-i': Number.POSITIVE_INFINITY }, 'x'), 'ERR_INVALID_ARG', "header 'x-i' must be a string, a finite number or an array of strings"],
    ['respond() with null headers', (response) => response.respond(200, null as unknown as Record<string, string>, 'x'), 'ERR_INVALID_ARG', 'headers must be an object'],
    ['respond() with string headers', (response) => response.respond(200, 'x-a: 1' as unknown as Record<string, string>, 'x'), 'ERR_INVALID_ARG', 'headers must be an object'],
  ];
  for (const [what, misuse, code, message] of headerCases) {
    it(`refuses ${what} with ${code} and puts nothing of it on the wire`, async () => {
      const { error, text: wire } = await recorded(misuse);
      expect(error).toMatchObject({ code, message });
      expect(statuses(wire)).toEqual([200]);
      expect(wire).not.toContain('evil');
      expect(wire.toLowerCase()).not.toMatch(/\r\nx-(split|list|n|b|a|i): /);
    });
  }

  it('keeps the value a header had when a later setHeader() of it is refused, even part-way through an array', async () => {
    const { error, text: wire } = await recorded((response) => {
      response.setHeader('X-Kept', 'before');
      response.setHeader('X-Kept', ['fine', 'bad\r\n']);
    });
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG', message: "invalid character in the value of header 'X-Kept'" });
    expect(wire).toContain('\r\nX-Kept: before\r\n');
    expect(wire).not.toContain('fine');
  });

  const lateCases: [string, (response: HttpResponse) => void, string][] = [
    ['status()', (response) => response.status(404), 'status() was called after the response headers were sent'],
    ['setHeader()', (response) => response.setHeader('x-late', '1'), "setHeader('x-late') was called after the response headers were sent"],
    ['respond()', (response) => response.respond(404, {}, 'no'), 'respond() was called after the response headers were sent'],
  ];
  for (const [what, late, message] of lateCases) {
    it(`refuses ${what} once a write sent the head, with ERR_HEADERS_SENT, and the stream goes on`, async () => {
      const flags: boolean[] = [];
      const { error, text: wire } = await recorded((response) => {
        flags.push(response.headersSent);
        response.write('first ');
        flags.push(response.headersSent, response.finished);
        try {
          late(response);
        } finally {
          response.end('last');
          flags.push(response.finished);
        }
      });
      expect(error).toMatchObject({ code: 'ERR_HEADERS_SENT', message });
      expect(flags).toEqual([false, true, false, true]);
      expect(statuses(wire)).toEqual([200]);
      expect(wire).not.toContain('x-late');
      expect(wire.endsWith('6\r\nfirst \r\n4\r\nlast\r\n0\r\n\r\n')).toBe(true);
    });
  }

  it('refuses a write past a declared content-length with ERR_INVALID_ARG before sending any of it', async () => {
    const { error, text: wire } = await recorded((response) => {
      response.setHeader('content-length', '5');
      response.write('abc');
      try {
        response.write('def');
      } finally {
        response.end('de');
      }
    });
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'the body would exceed the declared content-length of 5 bytes' });
    expect(wire).toMatch(/\r\nContent-Length: 5\r\n/i);
    expect(wire.endsWith('\r\n\r\nabcde')).toBe(true);
  });

  it('refuses an end() chunk past a declared content-length, and a first write too long for it', async () => {
    const late = await recorded((response) => {
      response.setHeader('Content-Length', '3');
      response.write('ab');
      try {
        response.end('cd');
      } finally {
        response.end('c');
      }
    });
    expect(late.error).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'the body would exceed the declared content-length of 3 bytes' });
    expect(late.text.endsWith('\r\n\r\nabc')).toBe(true);
    const first = await recorded((response) => {
      response.setHeader('Content-Length', '2');
      try {
        response.write('abc');
      } finally {
        response.end('ab');
      }
    });
    expect(first.error).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'the body would exceed the declared content-length of 2 bytes' });
    expect(first.text.endsWith('\r\n\r\nab')).toBe(true);
  });

  it('makes write(), end() and respond() after the end no-ops: write() says false and nothing more is sent', async () => {
    const results: unknown[] = [];
    const { error, text: wire } = await recorded((response) => {
      response.end('done');
      results.push(response.write('more'), response.finished);
      response.end('again');
      response.respond(500, {}, 'again');
    });
    expect(error).toBeUndefined();
    expect(results).toEqual([false, true]);
    expect(statuses(wire)).toEqual([200]);
    expect(wire.endsWith('\r\n\r\ndone')).toBe(true);
  });
});
