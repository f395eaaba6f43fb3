import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, serve, within } from './http-helpers.js';

// As node:http (httpAllowHalfOpen false): a client that half-closes gives up on what is still
// unanswered; only when everything was answered does the queued output still go out first.
describe.each(['level', 'edge'] as const)('a client that half-closes with a request unanswered on raw sockets (%s-triggered)', (trigger) => {
  it('gets that request aborted and the connection closed, though an earlier answer is still queued', () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x65);
    const log: string[] = [];
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      { keepAliveTimeout: 60_000 },
      (request, response) => {
        if (request.url === '/big') {
          response.respond(200, { 'content-type': 'application/octet-stream' }, big);
          return;
        }
        request.on({ aborted: () => log.push('aborted') });
        held = response;
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        // The first answer fills the socket (the client reads nothing yet); the second waits for its handler.
        socket.write('GET /big HTTP/1.1\r\nHost: t\r\n\r\nGET /held HTTP/1.1\r\nHost: t\r\n\r\n');
        await eventually(() => held !== undefined, 'the second request');
        socket.end();
        await eventually(() => log.length > 0, 'aborted for the unanswered request');
        expect(log).toEqual(['aborted']);
        socket.resume();
        await closed;
        expect(errors).toEqual([]);
      },
    );
  });
});
