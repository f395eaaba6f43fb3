import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

const plain = { 'content-type': 'application/octet-stream' };

/** Bytes that each say where they are, so a lost, doubled or shifted part shows. */
function patterned(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + seed) & 0xff;
  return bytes;
}

/** Resolve with what `socket` received once `done` holds for it (the connection stays open). */
function receive(socket: Socket, done: (data: Buffer) => boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return within(
    new Promise<Buffer>((resolve) => {
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        const data = Buffer.concat(chunks);
        if (done(data)) {
          socket.off('data', onData);
          resolve(data);
        }
      };
      socket.on('data', onData);
    }),
    15_000,
    'the answer from the server',
  );
}

/** Whether `data` holds a whole response with a body of `length` bytes. */
function whole(data: Buffer, length: number): boolean {
  const headEnd = data.indexOf('\r\n\r\n');
  return headEnd >= 0 && data.length >= headEnd + 4 + length;
}

describe.each(['level', 'edge'] as const)('HTTP output under backpressure on raw sockets (%s-triggered)', (trigger) => {
  it('leaves the loop asleep on a keep-alive connection once an answer that had to wait for the client went out', () => {
    const big = patterned(8 * 1024 * 1024, 1);
    return serve(
      trigger,
      {},
      (request, response) => response.respond(200, plain, request.url === '/big' ? big : 'small'),
      async ({ loop, server, errors }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const first = receive(socket, (data) => whole(data, big.length));
        socket.write('GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
        // The socket fills and the rest of the answer waits in the connection's queue.
        await new Promise((resolve) => setTimeout(resolve, 100));
        socket.resume();
        const data = await first;
        expect(data.subarray(data.indexOf('\r\n\r\n') + 4).equals(big)).toBe(true);
        // Everything is out: the connection waits for its next request and nothing else happens.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const wakeups = loop.stats.wakeups;
        await new Promise((resolve) => setTimeout(resolve, 500));
        const woken = loop.stats.wakeups - wakeups;
        // A socket left registered for writability wakes the loop at every turn (hundreds of
        // thousands of times here); the bound only leaves room for a stray wake-up.
        expect(woken).toBeLessThanOrEqual(5);
        const second = receive(socket, (data) => whole(data, 5));
        socket.write('GET /small HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect((await second).subarray(-5).toString()).toBe('small');
        expect(errors).toEqual([]);
      },
    );
  });

  it('has write() return true for an answer made out of turn until 64 KiB of it wait, then false', () => {
    const small = patterned(1000, 2);
    const rest = patterned(70 * 1024, 3);
    let first: HttpResponse | undefined;
    const results: boolean[] = [];
    return serve(
      trigger,
      {},
      (request, response) => {
        if (request.url === '/first') {
          first = response;
          return;
        }
        // Not its turn: what it writes waits in its own buffer until the first request is answered.
        results.push(response.write(small));
        results.push(response.write(rest));
        response.end();
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        socket.write('GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET /second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await eventually(() => results.length === 2, 'the second handler');
        expect(results).toEqual([true, false]);
        first?.respond(200, plain, 'first');
        await closed;
        const responses = parseResponses(Buffer.concat(chunks));
        expect(responses.map((response) => response.status)).toEqual([200, 200]);
        expect(responses[0]?.body).toBe('first');
        expect(Buffer.from(responses[1]?.body ?? '', 'latin1').equals(Buffer.concat([small, rest]))).toBe(true);
        expect(errors).toEqual([]);
      },
    );
  });

  it.each(['in its handler', 'after its handler returned'])('reports close for an answer made %s that had to wait for the client only once all of it went out, on a connection that stays open', (when) => {
    const big = patterned(8 * 1024 * 1024, 4);
    const events: string[] = [];
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      { keepAliveTimeout: 60_000 }, // no keep-alive timeout closes the connection meanwhile
      (request, response) => {
        if (request.url !== '/big') response.respond(200, plain, 'small');
        else held = response.on({ close: () => events.push('close') });
        if (request.url === '/big' && when === 'in its handler') response.respond(200, plain, big);
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const first = receive(socket, (data) => whole(data, big.length));
        socket.write('GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
        await eventually(() => held !== undefined, 'the request');
        // Answered after its handler returned, no read is being parsed: the socket fills at once.
        if (when !== 'in its handler') held?.respond(200, plain, big);
        await new Promise((resolve) => setTimeout(resolve, 100));
        // Most of the answer still waits in the connection's queue.
        events.push('client reads');
        socket.resume();
        const data = await first;
        events.push('client has it all');
        expect(data.subarray(data.indexOf('\r\n\r\n') + 4).equals(big)).toBe(true);
        // No other request comes to move the connection on: the queue draining alone is what ends it.
        await eventually(() => events.includes('close'), 'close for the big answer');
        expect(events.slice(0, 1)).toEqual(['client reads']);
        expect(events.filter((event) => event === 'close')).toEqual(['close']);
        const second = receive(socket, (more) => whole(more, 5));
        socket.write('GET /small HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect((await second).subarray(-5).toString()).toBe('small');
        expect(errors).toEqual([]);
      },
    );
  });

  it('calls drain only once every queued byte went out: the first write from drain is taken at once', () => {
    const chunk = patterned(1024 * 1024, 5);
    const tail = patterned(100, 6);
    const log: string[] = [];
    let written = 0;
    return serve(
      trigger,
      {},
      (_request, response) => {
        let left = 32; // far more than the socket buffers on both sides hold
        response.on({
          drain: () => {
            log.push(`drain, write ${String(response.write(tail))}`);
            response.end();
          },
        });
        // Past the first refusal it goes on writing: the queue then holds far more than one flush sends.
        while (left > 0) {
          left--;
          written++;
          if (!response.write(chunk) && !log.includes('full')) log.push('full');
        }
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const chunks: Buffer[] = [];
        socket.on('data', (piece: Buffer) => chunks.push(piece));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await eventually(() => log.length > 0, 'the socket to fill');
        // The client then reads slowly: the queue empties over several flushes.
        await new Promise((resolve) => setTimeout(resolve, 100));
        socket.resume();
        await closed;
        expect(log).toEqual(['full', 'drain, write true']);
        const responses = parseResponses(Buffer.concat(chunks));
        expect(responses.length).toBe(1);
        expect(Buffer.from(responses[0]?.body ?? '', 'latin1').equals(Buffer.concat([...Array.from({ length: written }, () => chunk), tail]))).toBe(true);
        expect(errors).toEqual([]);
      },
    );
  });

  it('reports close for a small answer made after its handler returned, with nothing else happening on the connection', () => {
    const events: string[] = [];
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      { keepAliveTimeout: 60_000 }, // no keep-alive timeout closes the connection meanwhile
      (_request, response) => {
        held = response.on({ close: () => events.push('close') });
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const answer = receive(socket, (data) => whole(data, 2));
        socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await eventually(() => held !== undefined, 'the request');
        held?.respond(200, plain, 'ok');
        expect((await answer).subarray(-2).toString()).toBe('ok');
        // The connection stays open and idle: close comes from the answer having gone out, not from the connection ending.
        await eventually(() => events.length > 0, 'close for the answer');
        expect(events).toEqual(['close']);
        socket.destroy();
        expect(errors).toEqual([]);
      },
    );
  });
});
