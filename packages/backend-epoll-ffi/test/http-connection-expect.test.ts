import { describe, expect, it } from 'vitest';
import type { HttpHandler } from '@loop/core';
import { serve } from './http-helpers.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Echo the body's length; `/late` answers after the others had their turn to run. */
const echo: HttpHandler = (request, response) => {
  const url = request.url;
  let length = 0;
  request.on({
    data: (chunk) => {
      length += chunk.length;
    },
    end: () => {
      const answer = (): void => response.respond(200, { 'content-type': 'text/plain' }, `${url} ${length}`);
      if (url === '/late') setTimeout(answer, 50);
      else answer();
    },
  });
};

describe.each(['level', 'edge'] as const)('Expect: 100-continue on raw sockets (%s-triggered)', (trigger) => {
  it('finds Expect and Host among other headers whose names have the same lengths', () =>
    serve(trigger, {}, echo, async ({ raw, errors }) => {
      const text = (await raw('POST /up HTTP/1.1\r\nX-Note: a\r\nDate: b\r\nHost: t\r\nExpect: 100-Continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc')).toString('latin1');
      expect(errors).toEqual([]);
      expect(text.startsWith(CONTINUE)).toBe(true);
      expect(text).toMatch(/\r\n\r\n\/up 3$/);
    }));

  it('sends no 100 Continue to a request that is not first in line, has no body, is HTTP/1.0, or expects something else', () =>
    serve(trigger, {}, echo, async ({ raw }) => {
      const cases = [
        'GET /late HTTP/1.1\r\nHost: t\r\n\r\nPOST /second HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
        'GET /nobody HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
        'POST /old HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
        'POST /other HTTP/1.1\r\nHost: t\r\nExpect: 200-ok\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
      ];
      for (const payload of cases) {
        const text = (await raw(payload)).toString('latin1');
        expect(text).not.toContain('100 Continue');
        expect(text).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
      }
    }));
});
