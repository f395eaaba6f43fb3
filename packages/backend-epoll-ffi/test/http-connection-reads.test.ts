import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('reading a connection on raw sockets (%s-triggered)', (trigger) => {
  it("answers a request that came in one read with the client's FIN and closes at once, not at keepAliveTimeout", () => {
    return serve(
      trigger,
      // A connection the server missed the FIN of would stay open until this timeout: far past the test's guard.
      { keepAliveTimeout: 60_000 },
      (_request, response) => response.respond(200, { 'content-type': 'text/plain' }, 'ok'),
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close the connection');
        // The request and the FIN leave together: one short read, with EPOLLRDHUP, brings both.
        socket.end('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await closed;
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual(['ok']);
        expect(errors).toEqual([]);
      },
    );
  });

  it('waits quietly for the rest of a body when resumed with nothing new to read', () => {
    let request: HttpRequest | undefined;
    let body = '';
    return serve(
      trigger,
      {},
      (incoming, response) => {
        request = incoming;
        incoming.on({
          data: (chunk) => {
            body += Buffer.from(chunk).toString('latin1');
            // Paused by the first part, inside the read that brought it (everything there was).
            if (body.length === 5) incoming.pause();
          },
          end: () => response.respond(200, { 'content-type': 'text/plain' }, body),
        });
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the answer');
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabcde');
        await eventually(() => body.length === 5, 'the first part of the body');
        // The socket has nothing more: the read this brings finds EAGAIN.
        request?.resume();
        await new Promise((resolve) => setTimeout(resolve, 50));
        socket.write('fghij');
        await closed;
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual(['abcdefghij']);
        expect(errors).toEqual([]);
      },
    );
  });
});
