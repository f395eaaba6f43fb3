import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('a request paused and resumed again and again on raw sockets (%s-triggered)', (trigger) => {
  it('reads each part of the body that came while paused once resumed, every time', () => {
    const part = 'p'.repeat(500);
    const parts = 4;
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
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the answer');
        socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${parts * part.length}\r\nConnection: close\r\n\r\n${part}`);
        for (let i = 1; i < parts; i++) {
          await eventually(() => received.length === i * part.length, `part ${i}`);
          // Paused between reads, the next part arrives, and only resume() brings it in.
          request?.pause();
          socket.write(part);
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(received.length).toBe(i * part.length);
          request?.resume();
        }
        await closed;
        expect(received.length).toBe(parts * part.length);
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual([String(parts * part.length)]);
        expect(errors).toEqual([]);
      },
    );
  });
});
