import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('a request paused between two reads of its body on raw sockets (%s-triggered)', (trigger) => {
  it('reads the part of the body that arrived while paused once resumed, though no new data comes to wake it', () => {
    const part = 'a'.repeat(1000);
    let request: HttpRequest | undefined;
    let received = '';
    return serve(
      trigger,
      {},
      (incoming, response) => {
        request = incoming;
        incoming.on({
          data: (chunk) => {
            received += Buffer.from(chunk).toString('latin1');
          },
          end: () => response.respond(200, { 'content-type': 'text/plain' }, String(received.length)),
        });
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the answer after resume()');
        socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${2 * part.length}\r\nConnection: close\r\n\r\n${part}`);
        await eventually(() => received.length === part.length, 'the first half of the body');
        // Paused after that read was over (from outside the loop's dispatch), then the rest comes.
        request?.pause();
        socket.write(part);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(received.length).toBe(part.length);
        request?.resume();
        await closed;
        expect(received).toBe(part + part);
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual([String(2 * part.length)]);
        expect(errors).toEqual([]);
      },
    );
  });
});
