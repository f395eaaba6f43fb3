import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TcpStream } from '@loop/core';
import { createLoop, type TriggerMode } from '../src/index.js';
import { boundSocket } from './fd-table-helpers.js';
import { eventually, openFdCount, within } from './http-helpers.js';

/** A client connection to `port`, resolved once connected. */
function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe.each<TriggerMode>(['level', 'edge'])('an exclusive listener in nowait runs (%s-triggered)', (trigger) => {
  it('a nowait run with nothing pending, right after one that accepted, accepts nothing and counts no readiness event (the previous batch is not read again)', async () => {
    const fdsBefore = openFdCount();
    const { fd, port } = boundSocket();
    const loop = createLoop({ trigger });
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ fd, exclusive: true }, (stream) => accepted.push(stream));
    const socket = await client(port);
    await loop.run('nowait');
    expect(accepted).toHaveLength(1);
    expect(loop.stats.listenEvents).toBe(1);
    expect(loop.stats.acceptMissed).toBe(0);
    // Nothing new in the backlog: the poll phase's look finds nothing and calls no accept.
    await loop.run('nowait');
    await loop.run('nowait');
    expect(accepted).toHaveLength(1);
    expect(loop.stats.listenEvents).toBe(1);
    expect(loop.stats.acceptMissed).toBe(0);
    expect(loop.stats.accepted).toBe(1);
    for (const stream of accepted) stream.close();
    server.close();
    await within(loop.run(), 10_000, 'the run to end');
    socket.destroy();
    loop.close();
    // The pool thread may still hold the listener's epoll set for a moment after its cancelled wait.
    await eventually(() => openFdCount() === fdsBefore, 'every fd to be closed');
  });
});
