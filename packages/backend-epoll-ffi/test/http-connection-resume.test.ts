import { describe, expect, it } from 'vitest';
import { openSocket, parseResponses, serve, within } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('a paused request body on raw sockets (%s-triggered)', (trigger) => {
  it('reads the body that arrived while paused once resumed, though no new data comes to wake it', () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
    let received = 0;
    let resume: (() => void) | undefined;
    return serve(
      trigger,
      { maxBodySize: 4 * 1024 * 1024 },
      (request, response) => {
        request.pause();
        request.on({
          data: (chunk) => {
            received += chunk.length;
          },
          end: () => response.respond(200, { 'content-type': 'text/plain' }, String(received)),
        });
        resume = () => request.resume();
      },
      async ({ server }) => {
        const socket = await openSocket(server.address.port);
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
        socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
        socket.write(body);
        // Everything the client sends is in the server's socket buffer (or on its way) by now.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const before = received;
        resume?.();
        await within(closed, 10_000, 'the response after resume()');
        expect(before).toBeLessThan(body.length);
        expect(parseResponses(Buffer.concat(chunks)).map((r) => r.body)).toEqual([String(body.length)]);
      },
    );
  });
});
