import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { openSocket, parseResponses, serve, within, type ParsedResponse } from './http-helpers.js';

const plain = { 'content-type': 'text/plain' };

/** Every byte `socket` receives until it closes. */
function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return within(
    new Promise<Buffer>((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks)))),
    15_000,
    'the server to close the connection',
  );
}

/** A parsed response's body as the bytes that came (the parser reads latin1). */
function bytesOf(response: ParsedResponse | undefined): Buffer {
  return Buffer.from(response?.body ?? '', 'latin1');
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A body whose every byte says where it is, so a lost, doubled or reordered part shows. */
function patterned(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + seed) & 0xff;
  return bytes;
}

describe.each(['level', 'edge'] as const)('HTTP connection flow on raw sockets (%s-triggered)', (trigger) => {
  it('stops reading at 32 unanswered pipelined requests, answers them in request order however the handlers finish, then reads on', () => {
    const held: [number, HttpResponse][] = [];
    let answering = false;
    return serve(
      trigger,
      {},
      (request, response) => {
        const index = Number(request.url.slice(1));
        if (answering) response.respond(200, plain, `r${index}`);
        else held.push([index, response]);
      },
      async ({ server, errors }) => {
        const request = (i: number): string => `GET /${i} HTTP/1.1\r\nHost: t\r\n${i === 39 ? 'Connection: close\r\n' : ''}\r\n`;
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        socket.write(Array.from({ length: 32 }, (_, i) => request(i)).join(''));
        await within(
          (async () => {
            while (held.length < 32) await pause(10);
          })(),
          10_000,
          'the first 32 requests',
        );
        socket.write(Array.from({ length: 8 }, (_, i) => request(32 + i)).join(''));
        await pause(150);
        // 32 wait for their answers: the connection reads no more until one is answered.
        expect(held.length).toBe(32);
        answering = true;
        // Answer the newest first: each waits for the ones before it.
        for (const [i, r] of held.slice().reverse()) r.respond(200, plain, `r${i}`);
        const responses = parseResponses(await all);
        expect(responses.map((r) => r.body)).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
        expect(errors).toEqual([]);
      },
    );
  });

  it('delivers responses larger than the socket takes at once, in order, to a client that reads late', () => {
    const big = patterned(6 * 1024 * 1024, 1);
    const text = 'é'.repeat(1024 * 1024); // 2 MiB of UTF-8 from a string
    return serve(
      trigger,
      {},
      (request, response) => {
        if (request.url === '/bytes') response.respond(200, plain, big);
        else if (request.url === '/text') response.respond(200, plain, text);
        else response.respond(200, plain, 'small');
      },
      async ({ server }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const all = collect(socket);
        socket.write('GET /bytes HTTP/1.1\r\nHost: t\r\n\r\nGET /small HTTP/1.1\r\nHost: t\r\n\r\nGET /text HTTP/1.1\r\nHost: t\r\n\r\n');
        await pause(100);
        socket.write('GET /small HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        socket.resume();
        const responses = parseResponses(await all);
        expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
        expect(bytesOf(responses[0]).equals(big)).toBe(true);
        expect(responses[1]?.body).toBe('small');
        expect(bytesOf(responses[2]).toString('utf8')).toBe(text);
        expect(responses[3]?.body).toBe('small');
      },
    );
  });

  it('still sends the whole queued answer when the client half-closes right after its request, then closes', () => {
    const big = patterned(4 * 1024 * 1024, 3);
    return serve(
      trigger,
      {},
      (_request, response) => response.respond(200, plain, big),
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const all = collect(socket);
        socket.end('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        await pause(100);
        socket.resume();
        const responses = parseResponses(await all);
        expect(responses.map((r) => r.status)).toEqual([200]);
        expect(bytesOf(responses[0]).equals(big)).toBe(true);
        expect(errors).toEqual([]);
      },
    );
  });

  it('calls drain once a streamed response that filled the socket went out, and the client gets every chunk', () => {
    const chunk = patterned(256 * 1024, 5);
    const events: string[] = [];
    return serve(
      trigger,
      {},
      (_request, response) => {
        let left = 32;
        const pump = (): void => {
          while (left > 0) {
            left--;
            if (!response.write(chunk)) {
              events.push('full');
              return;
            }
          }
          response.end();
          events.push('end');
        };
        response.on({
          drain: () => {
            events.push('drain');
            pump();
          },
        });
        pump();
      },
      async ({ server }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const all = collect(socket);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        await pause(100);
        socket.resume();
        const [response] = parseResponses(await all);
        expect(bytesOf(response).length).toBe(32 * chunk.length);
        expect(bytesOf(response).equals(Buffer.concat(Array.from({ length: 32 }, () => chunk)))).toBe(true);
        expect(events[0]).toBe('full');
        expect(events[1]).toBe('drain');
        expect(events.at(-1)).toBe('end');
      },
    );
  });

  it('keeps an idle connection open within keepAliveTimeout (across many sweeps) and serves its next request', () =>
    serve(
      trigger,
      { keepAliveTimeout: 60_000, headersTimeout: 100 },
      (request, response) => response.respond(200, plain, request.url),
      async ({ server }) => {
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        // Idle before the first request, and between requests: the sweep (every 20 ms here) runs many times.
        await pause(250);
        socket.write('GET /a HTTP/1.1\r\nHost: t\r\n\r\n');
        await pause(250);
        socket.write('GET /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        const responses = parseResponses(await all);
        expect(responses.map((r) => r.body)).toEqual(['/a', '/b']);
      },
    ));

  it('closes a connection idle past keepAliveTimeout after it was answered, and one that never sent anything', () =>
    serve(
      trigger,
      { keepAliveTimeout: 100, headersTimeout: 60_000 },
      (request, response) => response.respond(200, plain, request.url),
      async ({ server }) => {
        const silent = await openSocket(server.address.port);
        const silentBytes = collect(silent);
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        socket.write('GET /a HTTP/1.1\r\nHost: t\r\n\r\n');
        const responses = parseResponses(await all);
        expect(responses.map((r) => [r.body, r.headers['connection']])).toEqual([['/a', 'keep-alive']]);
        expect((await silentBytes).length).toBe(0);
      },
    ));

  it('waits headersTimeout, not keepAliveTimeout, for the rest of a head split across reads', () =>
    serve(
      trigger,
      { keepAliveTimeout: 100, headersTimeout: 60_000 },
      (request, response) => response.respond(200, plain, request.url),
      async ({ server }) => {
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        socket.write('GET /slow HTTP/1.1\r\nHo');
        // Longer than keepAliveTimeout, with the sweep (every 20 ms here) running many times.
        await pause(300);
        socket.write('st: t\r\nConnection: close\r\n\r\n');
        const responses = parseResponses(await all);
        expect(responses.map((r) => [r.status, r.body])).toEqual([[200, '/slow']]);
      },
    ));

  it('closes an idle keep-alive connection as soon as the client half-closes it, not at keepAliveTimeout', () =>
    serve(
      trigger,
      { keepAliveTimeout: 60_000 },
      (request, response) => response.respond(200, plain, request.url),
      async ({ server }) => {
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        socket.write('GET /a HTTP/1.1\r\nHost: t\r\n\r\n');
        socket.once('data', () => socket.end());
        const responses = parseResponses(await all);
        expect(responses.map((r) => [r.body, r.headers['connection']])).toEqual([['/a', 'keep-alive']]);
      },
    ));

  it('answers 408 to a head that stops coming within headersTimeout, and closes', () =>
    serve(
      trigger,
      { keepAliveTimeout: 60_000, headersTimeout: 100 },
      (_request, response) => response.respond(200),
      async ({ server }) => {
        const socket = await openSocket(server.address.port);
        const all = collect(socket);
        socket.write('GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ');
        const responses = parseResponses(await all);
        expect(responses.map((r) => [r.status, r.headers['connection']])).toEqual([[408, 'close']]);
      },
    ));

  it('answers 431 to a head larger than maxHeaderSize, and serves the next connection', () =>
    serve(
      trigger,
      {},
      (_request, response) => response.respond(200, plain, 'ok'),
      async ({ send }) => {
        const refused = await send(`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(200 * 1024)}\r\n\r\n`);
        expect(refused.map((r) => [r.status, r.headers['connection']])).toEqual([[431, 'close']]);
        const next = await send('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
        expect(next.map((r) => r.body)).toEqual(['ok']);
      },
    ));

  it('reports aborted to a paused request whose client hung up, once it resumes, and closes the fd', () => {
    const order: string[] = [];
    let resume: (() => void) | undefined;
    return serve(
      trigger,
      {},
      (request) => {
        request.on({
          data: () => order.push('data'),
          end: () => order.push('end'),
          aborted: () => order.push('aborted'),
        });
        request.pause();
        resume = () => request.resume();
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const closed = collect(socket);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc');
        await pause(100);
        socket.destroy();
        await closed;
        await pause(100);
        expect(order).toEqual([]);
        resume?.();
        await within(
          (async () => {
            while (!order.includes('aborted')) await pause(10);
          })(),
          10_000,
          'the aborted callback',
        );
        expect(order.filter((e) => e !== 'data')).toEqual(['aborted']);
        expect(errors).toEqual([]);
      },
    );
  });
});

describe.each(['level', 'edge'] as const)('HTTP connection reset by the client (%s-triggered)', (trigger) => {
  it('closes at once and reports aborted to a paused request whose client reset the connection, without waiting for resume()', () => {
    const order: string[] = [];
    return serve(
      trigger,
      {},
      (request) => {
        request.on({
          end: () => order.push('end'),
          aborted: () => order.push('aborted'),
        });
        request.pause();
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const closed = collect(socket);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc');
        await pause(100);
        socket.resetAndDestroy();
        await closed;
        await within(
          (async () => {
            while (!order.includes('aborted')) await pause(10);
          })(),
          10_000,
          'the aborted callback',
        );
        expect(order).toEqual(['aborted']);
        expect(errors).toEqual([]);
      },
    );
  });
});
