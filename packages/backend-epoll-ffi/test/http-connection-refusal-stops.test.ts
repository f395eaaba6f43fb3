import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

// A refused request (a bad head, a body over the limit, a handler failing after its response
// started) ends the connection: nothing pipelined behind it is handled or answered.
describe.each(['level', 'edge'] as const)('a refusal stops the connection on raw sockets (%s-triggered)', (trigger) => {
  it.each(['fast', 'llhttp'] as const)('answers 400 to a head without Host and handles nothing pipelined behind it (%s parser)', (parser) => {
    const handled: string[] = [];
    return serve(
      trigger,
      parser === 'llhttp' ? { parser: 'llhttp' } : {},
      (request, response) => {
        handled.push(request.url);
        response.respond(200, { 'content-type': 'text/plain' }, 'ok');
      },
      async ({ send, errors }) => {
        const responses = await send('GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET /bad HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n');
        expect(responses.map((response) => response.status)).toEqual([200, 400]);
        expect(handled).toEqual(['/first']);
        expect(errors).toEqual([]);
      },
    );
  });

  it('answers 413 to a chunked body over maxBodySize and handles nothing pipelined behind it', () => {
    const handled: string[] = [];
    return serve(
      trigger,
      { maxBodySize: 10 },
      (request, response) => {
        handled.push(request.url);
        request.on({ data: () => undefined, end: () => response.respond(200, { 'content-type': 'text/plain' }, 'ok') });
      },
      async ({ send }) => {
        const body = `14\r\n${'x'.repeat(20)}\r\n0\r\n\r\n`;
        const responses = await send(`POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${body}GET /after HTTP/1.1\r\nHost: t\r\n\r\n`);
        expect(responses.map((response) => response.status)).toEqual([413]);
        expect(handled).toEqual(['/big']);
      },
    );
  });

  it('answers 413 in turn to a chunked body over maxBodySize behind an unanswered request, and handles nothing pipelined behind it', () => {
    const handled: string[] = [];
    let first: HttpResponse | undefined;
    return serve(
      trigger,
      { maxBodySize: 10 },
      (request, response) => {
        handled.push(request.url);
        if (request.url === '/first') first = response;
        else request.on({ data: () => undefined, end: () => response.respond(200, { 'content-type': 'text/plain' }, 'ok') });
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        const body = `14\r\n${'x'.repeat(20)}\r\n0\r\n\r\n`;
        socket.write(`GET /first HTTP/1.1\r\nHost: t\r\n\r\nPOST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${body}GET /after HTTP/1.1\r\nHost: t\r\n\r\n`);
        await eventually(() => first !== undefined, 'the first request');
        // Everything was read by now; the 413 waits for the first answer.
        await new Promise((resolve) => setTimeout(resolve, 50));
        first?.respond(200, { 'content-type': 'text/plain' }, 'first');
        await closed;
        expect(parseResponses(Buffer.concat(data)).map((response) => response.status)).toEqual([200, 413]);
        expect(handled).toEqual(['/first', '/big']);
        expect(errors).toEqual([]);
      },
    );
  });

  it('cuts the connection when a handler fails after its response started, and handles nothing pipelined behind it', () => {
    const handled: string[] = [];
    return serve(
      trigger,
      {},
      (request, response) => {
        handled.push(request.url);
        response.write('partial');
        throw new Error('handler failed');
      },
      async ({ raw, errors }) => {
        const data = await raw('GET /fails HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n');
        expect(data.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(data.toString('latin1')).not.toMatch(/0\r\n\r\n$/);
        expect(handled).toEqual(['/fails']);
        expect(errors).toEqual([expect.objectContaining({ message: 'handler failed' })]);
      },
    );
  });
});
