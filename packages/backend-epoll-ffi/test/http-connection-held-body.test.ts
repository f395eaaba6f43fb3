import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

// A body that came in the same read as its head is a view of the loop's read buffer, which the next
// read (of any connection) reuses: a paused request must keep a copy of it.
describe.each(['level', 'edge'] as const)('the body of a paused request on raw sockets (%s-triggered)', (trigger) => {
  it('keeps the bytes of a body that came with its head while another connection is read meanwhile', () => {
    let paused: HttpRequest | undefined;
    const bodies: Record<string, string> = {};
    const dataEvents: Record<string, number> = {};
    return serve(
      trigger,
      {},
      (request, response) => {
        const url = request.url;
        bodies[url] = '';
        dataEvents[url] = 0;
        request.on({
          data: (chunk) => {
            dataEvents[url] = (dataEvents[url] ?? 0) + 1;
            bodies[url] += Buffer.from(chunk).toString('latin1');
          },
          end: () => response.respond(200, { 'content-type': 'text/plain' }, bodies[url] ?? ''),
        });
        if (url === '/a') {
          request.pause();
          paused = request;
        }
      },
      async ({ server, errors }) => {
        const answers = async (payload: string): Promise<{ socket: Awaited<ReturnType<typeof openSocket>>; done: Promise<Buffer> }> => {
          const socket = await openSocket(server.address.port);
          const data: Buffer[] = [];
          socket.on('data', (chunk: Buffer) => data.push(chunk));
          const done = within(new Promise<Buffer>((resolve) => socket.on('close', () => resolve(Buffer.concat(data)))), 10_000, 'an answer');
          socket.write(payload);
          return { socket, done };
        };
        const a = await answers(`POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nConnection: close\r\n\r\n${'A'.repeat(100)}`);
        await eventually(() => paused !== undefined, 'the paused request');
        // Another connection's head and body land in the same read buffer.
        const b = await answers(`POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nConnection: close\r\n\r\n${'B'.repeat(100)}`);
        expect(parseResponses(await b.done).map((response) => response.body)).toEqual(['B'.repeat(100)]);
        // A request without a body gets no data event at all.
        const c = await answers('GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect(parseResponses(await c.done).map((response) => response.body)).toEqual(['']);
        paused?.resume();
        expect(parseResponses(await a.done).map((response) => response.body)).toEqual(['A'.repeat(100)]);
        expect(dataEvents).toEqual({ '/a': 1, '/b': 1, '/c': 0 });
        expect(errors).toEqual([]);
      },
    );
  });
});
