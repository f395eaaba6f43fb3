import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('a connection with 32 unanswered pipelined requests on raw sockets (%s-triggered)', (trigger) => {
  it('leaves the loop asleep while it waits for answers with more requests unread, then answers all in order', () => {
    const held: HttpResponse[] = [];
    let answering = false;
    return serve(
      trigger,
      {},
      (request, response) => {
        if (answering) response.respond(200, { 'content-type': 'text/plain' }, request.url);
        else held.push(response);
      },
      async ({ loop, server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        const request = (i: number): string => `GET /${i} HTTP/1.1\r\nHost: t\r\n${i === 39 ? 'Connection: close\r\n' : ''}\r\n`;
        socket.write(Array.from({ length: 32 }, (_, i) => request(i)).join(''));
        await eventually(() => held.length === 32, 'the first 32 requests');
        // More requests wait in the socket: the connection does not read them, and nothing wakes the loop.
        socket.write(Array.from({ length: 8 }, (_, i) => request(32 + i)).join(''));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const wakeups = loop.stats.wakeups;
        await new Promise((resolve) => setTimeout(resolve, 300));
        const woken = loop.stats.wakeups - wakeups;
        expect(held.length).toBe(32);
        answering = true;
        held.forEach((response, i) => response.respond(200, { 'content-type': 'text/plain' }, `/${i}`));
        await closed;
        // A connection left registered for EPOLLIN (level-triggered) wakes the loop at every turn.
        expect(woken).toBeLessThanOrEqual(5);
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual(Array.from({ length: 40 }, (_, i) => `/${i}`));
        expect(errors).toEqual([]);
      },
    );
  });
});
