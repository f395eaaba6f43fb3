import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@loop/core';
import { eventually, openSocket, parseResponses, serve, within } from './http-helpers.js';

describe.each(['level', 'edge'] as const)('server.close() with connections open on raw sockets (%s-triggered)', (trigger) => {
  it('lets a request under way be answered in full, then closes its connection, while an idle one closes at once', () => {
    const log: string[] = [];
    let held: HttpResponse | undefined;
    return serve(
      trigger,
      { keepAliveTimeout: 60_000 },
      (request, response) => {
        if (request.url === '/held') {
          held = response.on({ close: () => log.push('held over') });
        } else {
          response.respond(200, { 'content-type': 'text/plain' }, 'idle');
        }
      },
      async ({ server, errors }) => {
        const busy = await openSocket(server.address.port);
        const idle = await openSocket(server.address.port);
        const collect = (socket: typeof busy, name: string): Promise<Buffer> => {
          const data: Buffer[] = [];
          socket.on('data', (chunk: Buffer) => data.push(chunk));
          return within(
            new Promise<Buffer>((resolve) =>
              socket.on('close', () => {
                log.push(`${name} closed`);
                resolve(Buffer.concat(data));
              }),
            ),
            10_000,
            `${name} to close`,
          );
        };
        const busyData = collect(busy, 'busy');
        const idleData = collect(idle, 'idle');
        idle.write('GET /idle HTTP/1.1\r\nHost: t\r\n\r\n');
        busy.write('GET /held HTTP/1.1\r\nHost: t\r\n\r\n');
        await eventually(() => held !== undefined, 'the held request');
        await eventually(() => idle.bytesRead > 0, 'the idle connection to be answered');
        server.close();
        expect(parseResponses(await idleData).map((response) => response.body)).toEqual(['idle']);
        log.push('answering');
        held?.respond(200, { 'content-type': 'text/plain' }, 'answered after close()');
        const responses = parseResponses(await busyData);
        expect(responses.map((response) => response.body)).toEqual(['answered after close()']);
        expect(responses[0]?.headers.connection).toBe('close');
        await eventually(() => log.includes('held over'), 'close for the held answer');
        expect(log.indexOf('idle closed')).toBeLessThan(log.indexOf('answering'));
        expect(errors).toEqual([]);
      },
    );
  });

  it('keeps reading the body of a request answered early when the server closes, then closes', () => {
    const log: string[] = [];
    let answered = false;
    return serve(
      trigger,
      { keepAliveTimeout: 60_000 },
      (request, response) => {
        let body = '';
        request.on({
          data: (chunk) => {
            body += Buffer.from(chunk).toString('latin1');
          },
          end: () => log.push(`end ${body}`),
        });
        // Answered before its body came: the request is still being read.
        response.respond(200, { 'content-type': 'text/plain' }, 'early');
        answered = true;
      },
      async ({ server, errors }) => {
        const socket = await openSocket(server.address.port);
        const data: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => data.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close');
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabcde');
        await eventually(() => answered, 'the early answer');
        server.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
        socket.write('fghij');
        await closed;
        expect(log).toEqual(['end abcdefghij']);
        expect(parseResponses(Buffer.concat(data)).map((response) => response.body)).toEqual(['early']);
        expect(errors).toEqual([]);
      },
    );
  });
});
