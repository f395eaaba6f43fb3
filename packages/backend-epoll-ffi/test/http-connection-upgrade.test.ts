import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

// An Upgrade request hands the rest of the stream to another protocol: the server parses nothing
// after it as HTTP, even bytes that arrive later and look like a request.
describe.each(['level', 'edge'] as const)('an Upgrade request on raw sockets (%s-triggered)', (trigger) => {
  it('parses nothing after it as a request, also bytes that come in a later read while its answer is pending', () => {
    const handled: string[] = [];
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      {},
      (request, response) => {
        handled.push(request.url);
        if (request.url === '/upgrade') held = response;
        else response.respond(200, { 'content-type': 'text/plain' }, 'plain');
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        socket.write('GET /upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n');
        await eventually(() => held !== undefined, 'the upgrade request');
        socket.write('GET /after HTTP/1.1\r\nHost: t\r\n\r\n');
        await new Promise((resolve) => setTimeout(resolve, 100));
        held?.respond(400, { 'content-type': 'text/plain' }, 'no upgrade here');
        await closed;
        expect(handled).toEqual(['/upgrade']);
        expect(parseResponses(Buffer.concat(data)).map((response) => response.status)).toEqual([400]);
        expect(errors).toEqual([]);
      },
    );
  });
});
