import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

// request.pause() stops reading the socket: TCP then pushes back on the client. Nothing of the body
// past the read that paused it is taken until resume().
describe.each(['level', 'edge'] as const)('a paused request body holds the client back on raw sockets (%s-triggered)', (trigger) => {
  it("leaves the loop asleep and the client's body unsent while paused, and takes all of it once resumed", () => {
    const body = Buffer.alloc(32 * 1024 * 1024, 0x63);
    let request: HttpRequest | undefined;
    let received = 0;
    return serve(
      trigger,
      { maxBodySize: 64 * 1024 * 1024 },
      (incoming, response) => {
        request = incoming;
        incoming.pause();
        incoming.on({
          data: (chunk) => {
            received += chunk.length;
          },
          end: () => response.respond(200, { 'content-type': 'text/plain' }, String(received)),
        });
      },
      async ({ loop, server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the answer after resume()');
        socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
        socket.write(body);
        await eventually(() => request !== undefined, 'the request');
        await new Promise((resolve) => setTimeout(resolve, 100));
        const wakeups = loop.stats.wakeups;
        await new Promise((resolve) => setTimeout(resolve, 300));
        const woken = loop.stats.wakeups - wakeups;
        // The socket buffers on both sides hold a few MiB: most of the 32 MiB still waits in the client.
        const unsent = socket.writableLength;
        request?.resume();
        await closed;
        expect(woken).toBeLessThanOrEqual(5);
        expect(unsent).toBeGreaterThan(body.length / 2);
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual([String(body.length)]);
        expect(errors).toEqual([]);
      },
    );
  });

  it('reads nothing of a chunked body past the read that paused it: no 413 while paused, though the body goes over maxBodySize', () => {
    const piece = Buffer.alloc(64 * 1024, 0x64);
    const chunked = Buffer.concat(Array.from({ length: 128 }, () => Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])));
    let request: HttpRequest | undefined;
    const log: string[] = [];
    return serve(
      trigger,
      // Over one read of the loop (64 KiB), under two.
      { maxBodySize: 100 * 1024 },
      (incoming, response) => {
        request = incoming;
        incoming.on({
          data: () => {
            if (log.length === 0) {
              log.push('paused');
              incoming.pause();
            }
          },
          end: () => response.respond(200, { 'content-type': 'text/plain' }, 'all of it'),
        });
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => {
          log.push('answer');
          data.push(chunk);
        });
        socket.on('error', () => undefined); // the server may reset what it refused
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the answer after resume()');
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
        socket.write(chunked);
        await eventually(() => log.length > 0, 'the first part of the body');
        await new Promise((resolve) => setTimeout(resolve, 200));
        log.push('resume');
        request?.resume();
        await closed;
        expect(log.slice(0, 3)).toEqual(['paused', 'resume', 'answer']);
        expect(parseResponses(Buffer.concat(data)).map((response) => response.status)).toEqual([413]);
        expect(errors).toEqual([]);
      },
    );
  });
});
