import { describe, expect, it } from 'vitest';
import { serve } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('a streamed response to HEAD (%s-triggered)', (trigger) => {
  it('is the head only: no chunk, not even the last one, so the next response on the connection starts clean', () =>
    serve(
      trigger,
      {},
      (request, response) => {
        response.setHeader('X-Method', request.method);
        expect(response.write('abc')).toBe(true);
        response.end('def');
      },
      async ({ raw }) => {
        const bytes = (await raw('HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')).toString('latin1').replace(/Date: [^\r]*\r\n/g, '');
        expect(bytes).toBe(
          'HTTP/1.1 200 OK\r\nX-Method: HEAD\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n' +
            'HTTP/1.1 200 OK\r\nX-Method: GET\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n',
        );
      },
    ));
});
