import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PeerAddress } from '@loop/core';
import { openSocket, parseResponses, serve, within } from './http-helpers.js';

/** A loopback port nothing listens on (taken from a server that is closed again at once). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe.each(['level', 'edge'] as const)("request.remoteAddress on raw sockets (%s-triggered)", (trigger) => {
  it("is the client's address and port, also after a failed connect on the same loop used the shared address buffers", () => {
    const seen: (PeerAddress | undefined)[] = [];
    return serve(
      trigger,
      {},
      (request, response) => {
        seen.push(request.remoteAddress);
        response.respond(200, { 'content-type': 'text/plain' }, 'ok');
      },
      async ({ loop, server, errors }) => {
        // A refused connect to another loopback address: the loop encodes 127.0.0.2 and reads
        // the socket's error (a 4-byte getsockopt) with the buffers getpeername uses later.
        const port = await closedPort();
        const failure = await within(
          loop.connect({ host: '127.0.0.2', port }).then(
            (stream) => {
              stream.close();
              return undefined;
            },
            (error: unknown) => error,
          ),
          10_000,
          'the refused connect',
        );
        expect(failure).toMatchObject({ code: expect.any(String) });
        const socket = await openSocket(server.address.port);
        const local = socket.localPort;
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the answer');
        socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await closed;
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual(['ok']);
        expect(seen).toEqual([expect.objectContaining({ address: '127.0.0.1', port: local })]);
        expect(errors).toEqual([]);
      },
    );
  });
});
