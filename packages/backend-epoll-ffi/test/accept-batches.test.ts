import { connect, type Socket } from 'node:net';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import type { TcpStream } from '@loop/core';
import { createLoop, type TriggerMode } from '../src/index.js';
import { connectMany, openFdCount, within } from './http-helpers.js';

const dup = koffi.load('libc.so.6').func('int dup(int)') as (fd: number) => number;

/** Resolve once this process has `count` fds open again (client sockets close asynchronously). */
function fdsBackTo(count: number): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const look = (): void => (openFdCount() === count ? resolve() : void setTimeout(look, 5));
      look();
    }),
    10_000,
    'every fd to be closed',
  );
}

/** The server's fd (white box: the accept tests need a second fd on the same listening socket). */
function fdOf(server: object): number {
  return (server as { fd: number }).fd;
}

describe.each<TriggerMode>(['level', 'edge'])('accepting a batch of connections (%s-triggered)', (trigger) => {
  it(
    trigger === 'level'
      ? 'accepts at most 64 connections per readiness event, so one busy listener cannot hold the rest of the batch back; the next poll takes the rest'
      : 'drains the whole backlog on one edge: a new edge comes only with a new connection',
    async () => {
      const fdsBefore = openFdCount();
      const loop = createLoop({ trigger });
      const accepted: TcpStream[] = [];
      const server = await loop.listen({ port: 0, backlog: 200 }, (stream) => accepted.push(stream));
      const sockets = await connectMany(server.address.port, 100);
      await loop.run('nowait');
      expect(accepted).toHaveLength(trigger === 'level' ? 64 : 100);
      expect(loop.stats.listenEvents).toBe(1);
      await loop.run('nowait');
      expect(accepted).toHaveLength(100);
      expect(loop.stats.accepted).toBe(100);
      for (const stream of accepted) stream.close();
      server.close();
      await within(loop.run(), 10_000, 'the run to end');
      for (const socket of sockets) socket.destroy();
      loop.close();
      await fdsBackTo(fdsBefore);
    },
  );

  it('a server closed by its connection callback accepts nothing more from that batch and reports nothing', async () => {
    const fdsBefore = openFdCount();
    const errors: unknown[] = [];
    const loop = createLoop({ trigger, onError: (error) => errors.push(error) });
    const accepted: TcpStream[] = [];
    const server = await loop.listen({ port: 0 }, (stream) => {
      accepted.push(stream);
      stream.close();
      server.close();
    });
    const sockets = await connectMany(server.address.port, 3);
    await within(loop.run(), 10_000, 'the run to end once the server closed');
    expect(accepted).toHaveLength(1);
    expect(loop.stats.accepted).toBe(1);
    expect(errors).toEqual([]);
    for (const socket of sockets) socket.destroy();
    loop.close();
    await fdsBackTo(fdsBefore);
  });

  it('counts a readiness event that finds the connection already taken as acceptMissed, and one that accepts as not missed', async () => {
    const fdsBefore = openFdCount();
    const loop = createLoop({ trigger });
    const accepted: string[] = [];
    const first = await loop.listen({ port: 0 }, (stream) => {
      accepted.push('first');
      stream.close();
    });
    const lone = await connectMany(first.address.port, 1);
    await loop.run('nowait');
    expect(accepted).toEqual(['first']);
    expect(loop.stats.acceptMissed).toBe(0);
    // A second server on a duplicate of the same listening socket: one connection makes both fds
    // ready in the same epoll batch, and only the server dispatched first gets it.
    const second = await loop.listen({ fd: dup(fdOf(first)) }, (stream) => {
      accepted.push('second');
      stream.close();
    });
    const more = await connectMany(first.address.port, 1);
    await loop.run('nowait');
    expect(accepted).toHaveLength(2);
    expect(loop.stats.listenEvents).toBe(3);
    expect(loop.stats.accepted).toBe(2);
    expect(loop.stats.acceptMissed).toBe(1);
    first.close();
    second.close();
    await within(loop.run(), 10_000, 'the run to end');
    for (const socket of [...lone, ...more]) socket.destroy();
    loop.close();
    await fdsBackTo(fdsBefore);
  });
});
