import type { HttpHeaderValue } from '@loop/core';
import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

const KEEP = 'GET /1 HTTP/1.1\r\nHost: t\r\n\r\n';
const LAST = 'GET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';

describe('a response that says Connection: close ends its connection', () => {
  const values: [string, HttpHeaderValue][] = [['a string', 'close'], ['an array', ['close']], ['an array with close in a later element', ['keep-alive', 'Close']]];
  for (const [what, value] of values) {
    it(`sends nothing after a response whose Connection header says close as ${what}, even with a request pipelined behind it`, async () => {
      const urls: string[] = [];
      await serve('level', {}, (request, response) => {
        urls.push(request.url);
        response.respond(200, { Connection: value }, 'ok');
      }, async ({ raw, errors }) => {
        const bytes = (await raw(KEEP + LAST)).toString('latin1').replace(/Date: [^\r]*\r\n/, '');
        const lines = (Array.isArray(value) ? value : [value]).map((item) => `Connection: ${String(item)}\r\n`).join('');
        expect(bytes).toBe(`HTTP/1.1 200 OK\r\n${lines}Content-Length: 2\r\n\r\nok`);
        expect(errors).toEqual([]);
      });
      expect(urls).toEqual(['/1']);
    });
  }
});
