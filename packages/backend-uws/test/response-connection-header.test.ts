import { describe, expect, it } from 'vitest';
import { exchange, withServer } from './helpers.js';

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`;

/** The Connection lines of a raw response head, as sent. */
function connectionLines(text: string): string[] {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  return head.split('\r\n').filter((line) => /^connection:/i.test(line)).map((line) => line.replace(/^connection:\s*/i, ''));
}

// The handler's own Connection header decides, and it goes out once: uWS writes its own
// `Connection: close` when it closes, and we write `keep-alive` only when the handler said nothing.
describe('a response with its own Connection header', () => {
  it.each([
    ['setHeader() then end()', '/end'],
    ['respond() with headers', '/respond'],
    ['setHeader() with an array, then end()', '/array'],
  ])('says close once and closes the connection: %s', (_title, url) =>
    withServer(
      {},
      (request, response) => {
        if (request.url === '/respond') return response.respond(200, { connection: 'close' }, 'bye');
        response.setHeader('connection', request.url === '/array' ? ['keep-alive', 'Close'] : 'close');
        response.end('bye');
      },
      async (server) => {
        const result = await exchange(server.address.port, get(url));
        expect(result.closedByServer).toBe(true);
        expect(result.text).toMatch(/^HTTP\/1\.1 200 /);
        expect(connectionLines(result.text)).toEqual(['close']);
      },
    ));

  // uWS.js cannot close after a chunked response (README, "More gaps"): the head says close, once.
  it('says close once in the head of a streamed response (write() then end())', () =>
    withServer(
      {},
      (_request, response) => {
        response.setHeader('connection', 'close');
        response.write('by');
        response.end('e');
      },
      async (server) => {
        const result = await exchange(server.address.port, get('/streamed'), 500);
        expect(result.text).toMatch(/^HTTP\/1\.1 200 /);
        expect(connectionLines(result.text)).toEqual(['close']);
      },
    ));

  it('keeps the connection for keep-alive of its own, sent once', () =>
    withServer(
      {},
      (_request, response) => {
        response.setHeader('Connection', 'keep-alive');
        response.end('stay');
      },
      async (server) => {
        const result = await exchange(server.address.port, get('/') + get('/again'), 500);
        expect(result.closedByServer).toBe(false);
        expect(connectionLines(result.text)).toEqual(['keep-alive']);
        expect(result.text.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
      },
    ));
});
