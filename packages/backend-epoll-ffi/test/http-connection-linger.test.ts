import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openFdCount, parseResponses, serve, within } from './http-helpers.js';

// After the answer to a request that closes the connection, the server sends its FIN and then reads
// and drops what still comes until the client's FIN (or a 2 s deadline), so that bytes the client was
// still sending do not make the kernel answer with a reset that could destroy the answer.

/** A client socket that stays open for writing after the server's FIN. */
function openHalfOpen(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** What a client saw: the bytes, and the errors its socket reported before it closed. */
interface Seen {
  data: Buffer;
  errors: string[];
}

function watch(socket: Socket): { ended: Promise<void>; closed: Promise<Seen> } {
  const chunks: Buffer[] = [];
  const errors: string[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
  const ended = within(new Promise<void>((resolve) => socket.once('end', () => resolve())), 10_000, "the server's FIN");
  const closed = within(
    new Promise<Seen>((resolve) => socket.once('close', () => resolve({ data: Buffer.concat(chunks), errors }))),
    15_000,
    'the connection to close',
  );
  return { ended, closed };
}

describe.each(['level', 'edge'] as const)('lingering after the last answer on raw sockets (%s-triggered)', (trigger) => {
  it('reads and drops what the client still sends after its FIN, so the client sees its answer and a clean close', () => {
    return serve(
      trigger,
      {},
      (_request, response) => response.respond(200, { 'content-type': 'text/plain' }, 'bye'),
      async ({ server, errors }) => {
        const socket = await openHalfOpen(server.address.port);
        const { ended, closed } = watch(socket);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await ended;
        // The server already sent its FIN: these bytes reach a socket it no longer answers on.
        socket.write('x'.repeat(64 * 1024));
        await new Promise((resolve) => setTimeout(resolve, 50));
        socket.end();
        const seen = await closed;
        expect(seen.errors).toEqual([]);
        expect(parseResponses(seen.data).map((response) => response.body)).toEqual(['bye']);
        expect(errors).toEqual([]);
      },
    );
  });

  it("reads and drops the rest of a paused request's body once it answered it and closed, so the client can finish sending", () => {
    const body = Buffer.alloc(16 * 1024 * 1024, 0x62);
    return serve(
      trigger,
      { maxBodySize: 32 * 1024 * 1024 },
      (request, response) => {
        // The body is not wanted: reading stops, and the answer says the connection closes.
        request.pause();
        response.respond(200, { 'content-type': 'text/plain', connection: 'close' }, 'no thanks');
      },
      async ({ server, errors }) => {
        const socket = await openHalfOpen(server.address.port);
        const { ended, closed } = watch(socket);
        socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
        // More than the socket buffers on both sides hold: it goes through only if the server reads it.
        const sent = within(new Promise<void>((resolve) => socket.write(body, () => resolve())), 10_000, 'the body to be taken');
        await ended;
        await sent;
        socket.end();
        const seen = await closed;
        expect(seen.errors).toEqual([]);
        expect(parseResponses(seen.data).map((response) => response.body)).toEqual(['no thanks']);
        expect(errors).toEqual([]);
      },
    );
  });

  it('closes its side of a connection whose client never sends its FIN, though the client still sends bytes', () => {
    return serve(
      trigger,
      // Neither of these ends the wait for the client's FIN: only the linger deadline does.
      { headersTimeout: 60_000, keepAliveTimeout: 60_000 },
      (_request, response) => response.respond(200, { 'content-type': 'text/plain' }, 'bye'),
      async ({ server, errors }) => {
        const before = openFdCount();
        const socket = await openHalfOpen(server.address.port);
        const { ended, closed } = watch(socket);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await ended;
        socket.write('GET /ignored HTTP/1.1\r\n');
        // The client keeps its side open; the server's fd goes once it stops waiting for the FIN.
        await eventually(() => openFdCount() === before + 1, "the server to close its fd (the client's stays)");
        socket.end();
        const seen = await closed;
        expect(parseResponses(seen.data).map((response) => response.body)).toEqual(['bye']);
        expect(errors).toEqual([]);
      },
    );
  });

  it.each(['in its handler', 'after its handler returned'])('sends its FIN only after an answer made %s that waited in the queue went out in full', (when) => {
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 5 + 3) & 0xff;
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      {},
      (_request, response) => {
        if (when === 'in its handler') response.respond(200, { 'content-type': 'application/octet-stream' }, big);
        else held = response;
      },
      async ({ server, errors }) => {
        const socket = await openHalfOpen(server.address.port);
        socket.pause();
        const { closed } = watch(socket);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        if (when !== 'in its handler') {
          await eventually(() => held !== undefined, 'the request');
          held?.respond(200, { 'content-type': 'application/octet-stream' }, big);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        socket.resume();
        socket.once('end', () => socket.end());
        const seen = await closed;
        expect(seen.errors).toEqual([]);
        const [response, ...rest] = parseResponses(seen.data);
        expect(rest).toEqual([]);
        expect(Buffer.from(response?.body ?? '', 'latin1').equals(big)).toBe(true);
        expect(errors).toEqual([]);
      },
    );
  });
});
