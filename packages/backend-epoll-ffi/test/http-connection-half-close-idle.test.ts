import { describe, expect, it } from 'vitest';
import { openSocket, serve, within } from './http-helpers.js';

// A client that sends its request and its FIN, then reads nothing for a while: the answer waits in
// the connection's queue. Level-triggered, a socket at EOF stays readable, so a connection still
// registered for EPOLLIN would make every epoll_wait return at once until the client reads.
describe.each(['level', 'edge'] as const)('a half-closed connection with a queued answer (%s-triggered)', (trigger) => {
  it('leaves the loop asleep while the client reads nothing, then sends the whole answer and closes', () => {
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 11 + 1) & 0xff;
    return serve(
      trigger,
      {},
      (_request, response) => response.respond(200, { 'content-type': 'application/octet-stream' }, big),
      async ({ loop, server, errors }) => {
        const socket = await openSocket(server.address.port);
        socket.pause();
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        const closed = within(new Promise<void>((resolve) => socket.on('close', () => resolve())), 10_000, 'the server to close the connection');
        socket.end('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        // The request, the FIN and the first part of the answer are through by then.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const wakeups = loop.stats.wakeups;
        await new Promise((resolve) => setTimeout(resolve, 500));
        const woken = loop.stats.wakeups - wakeups;
        socket.resume();
        await closed;
        // Nothing happens on the socket meanwhile (the client reads nothing): a spinning loop wakes
        // hundreds of thousands of times; the bound only leaves room for a stray wake-up.
        expect(woken).toBeLessThanOrEqual(5);
        const data = Buffer.concat(chunks);
        const headEnd = data.indexOf('\r\n\r\n');
        expect(data.subarray(0, 15).toString('latin1')).toBe('HTTP/1.1 200 OK');
        expect(data.subarray(headEnd + 4).equals(big)).toBe(true);
        expect(errors).toEqual([]);
      },
    );
  });
});
