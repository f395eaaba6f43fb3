import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('how an HTTP connection ends on raw sockets (%s-triggered)', (trigger) => {
  it('closes the connection after a response whose own headers say Connection: close', () => {
    return serve(
      trigger,
      // The connection would otherwise stay open far past the test's guard.
      { keepAliveTimeout: 60_000 },
      (_request, response) => response.respond(200, { 'content-type': 'text/plain', connection: 'close' }, 'bye'),
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await closed;
        const responses = parseResponses(Buffer.concat(data));
        expect(responses.map((response) => response.body)).toEqual(['bye']);
        expect(responses[0]?.headers.connection).toBe('close');
        expect(errors).toEqual([]);
      },
    );
  });

  it('reports close for a response whose client went away before it was answered', () => {
    const log: string[] = [];
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      {},
      (_request, response) => {
        held = response.on({ close: () => log.push('close') });
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await eventually(() => held !== undefined, 'the request');
        socket.destroy();
        await eventually(() => log.length > 0, 'close for the unanswered response');
        expect(log).toEqual(['close']);
        expect(errors).toEqual([]);
      },
    );
  });
});
